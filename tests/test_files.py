"""Atomic writes: a reader sees the old file or the whole new one, never a part or a stray temporary."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pretty_midi
import pytest

from cycleaudio.files import replaced_atomically
from cycleaudio.tasks.music.synthetic import write_style


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "song.mid"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError):
        with replaced_atomically(target) as tmp:
            tmp.write_bytes(b"half")
            raise RuntimeError("disk full")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["song.mid"]


def test_keep_suffix_lets_numpy_write_the_exact_file(tmp_path: Path) -> None:
    """numpy appends .npy/.npz to names without it: the temporary keeps the extension last."""
    for name, write in (("a.npy", lambda p: np.save(p, np.arange(3))),
                        ("b.npz", lambda p: np.savez(p, x=np.arange(3)))):
        with replaced_atomically(tmp_path / name, keep_suffix=True) as tmp:
            assert tmp.suffix == Path(name).suffix and tmp.name.startswith(".")
            write(tmp)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.npy", "b.npz"]
    assert np.load(tmp_path / "a.npy").tolist() == [0, 1, 2]


def test_a_temporary_is_never_seen_by_a_scan_for_the_extension(tmp_path: Path) -> None:
    with replaced_atomically(tmp_path / "out.wav") as tmp:
        tmp.write_bytes(b"partial")
        assert list(tmp_path.glob("*.wav")) == []
    assert [p.name for p in tmp_path.glob("*.wav")] == ["out.wav"]


def test_two_processes_writing_the_same_songs_at_once_both_finish(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """A second process fills the built-in MIDI cache while the first is between write and rename."""
    pids = iter(range(2000, 2010))
    monkeypatch.setattr(os, "getpid", lambda: next(pids))
    real_replace = os.replace

    def replace_after_another_process_wrote(src: str | Path, dst: str | Path) -> None:
        if not (tmp_path / "second.done").exists():
            (tmp_path / "second.done").touch()
            write_style(tmp_path / "songs", "pop", 1)
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace_after_another_process_wrote)
    [path] = write_style(tmp_path / "songs", "pop", 1)
    assert sorted(p.name for p in path.parent.iterdir()) == ["pop_0000.mid"]
    assert pretty_midi.PrettyMIDI(str(path)).instruments[0].notes  # a whole, readable song
