"""MIDI <-> beat-grid roll: round trips, tempo maps, changing metres, and every kind of bad file."""

from __future__ import annotations

from pathlib import Path

import mido
import numpy as np
import pretty_midi
import pytest

from cycleaudio.errors import InputFileError
from cycleaudio.tasks.music.corpus import cut_phrases, load_corpus
from cycleaudio.tasks.music.roll import RollSettings, load_roll, read_midi, roll_to_midi

SETTINGS = RollSettings()


def _tempo_change_midi(path: Path) -> Path:
    """4 beats at 120 BPM then 3/4 at 90 BPM: one note per beat, eighth notes on the grid."""
    mid = mido.MidiFile(ticks_per_beat=480)
    track = mido.MidiTrack()
    mid.tracks.append(track)
    track.append(mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(120), time=0))
    track.append(mido.MetaMessage("time_signature", numerator=4, denominator=4, time=0))
    pitches = [60, 62, 64, 65, 67, 69, 71]
    for i, pitch in enumerate(pitches):
        if i == 4:  # after 4 beats: 3/4 at 90 BPM
            track.append(mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(90), time=0))
            track.append(mido.MetaMessage("time_signature", numerator=3, denominator=4, time=0))
        track.append(mido.Message("note_on", note=pitch, velocity=90, time=0))
        track.append(mido.Message("note_off", note=pitch, velocity=0, time=240))  # an eighth
        track.append(mido.Message("note_on", note=pitch + 12, velocity=90, time=0))
        track.append(mido.Message("note_off", note=pitch + 12, velocity=0, time=240))
    mid.save(str(path))
    return path


def test_quantises_on_the_beat_grid_through_tempo_and_metre_changes(tmp_path: Path) -> None:
    song = load_roll(_tempo_change_midi(tmp_path / "change.mid"), SETTINGS)
    on = song.roll[0]
    assert on.shape == (7 * 4, 84)
    for beat, pitch in enumerate([60, 62, 64, 65, 67, 69, 71]):
        assert on[beat * 4: beat * 4 + 2, pitch - 24].all() and not on[beat * 4 + 2: beat * 4 + 4, pitch - 24].any()
        assert on[beat * 4 + 2: beat * 4 + 4, pitch + 12 - 24].all()
    steps = np.diff(song.times)
    assert np.allclose(steps[:16], 0.5 / 4) and np.allclose(steps[16:], (60 / 90) / 4)


def test_round_trip_keeps_notes_on_the_grid_and_the_tempo_map(tmp_path: Path) -> None:
    source = _tempo_change_midi(tmp_path / "change.mid")
    song = load_roll(source, SETTINGS)
    out = roll_to_midi(song.roll, song.times, SETTINGS, template=read_midi(source), program=5)
    out.write(str(tmp_path / "out.mid"))
    back = pretty_midi.PrettyMIDI(str(tmp_path / "out.mid"))
    original = pretty_midi.PrettyMIDI(str(source))
    assert [i.program for i in back.instruments] == [5]
    got = sorted((n.pitch, round(n.start, 4), round(n.end, 4)) for n in back.instruments[0].notes)
    want = sorted((n.pitch, round(n.start, 4), round(n.end, 4)) for n in original.instruments[0].notes)
    assert got == want
    for a, b in zip(back.get_tempo_changes(), original.get_tempo_changes()):
        assert np.allclose(a, b)
    assert [(t.numerator, t.denominator) for t in back.time_signature_changes] == [(4, 4), (3, 4)]
    assert np.array_equal(load_roll(tmp_path / "out.mid", SETTINGS).roll, song.roll)


def test_velocity_channel(tmp_path: Path) -> None:
    settings = RollSettings(velocity=True)
    song = load_roll(_tempo_change_midi(tmp_path / "v.mid"), settings)
    assert song.roll.shape[0] == 2 and set(np.unique(song.roll[1])) == {0, 90}
    notes = roll_to_midi(song.roll, song.times, settings).instruments[0].notes
    assert {n.velocity for n in notes} == {90}


def test_empty_roll_still_writes_a_readable_midi(tmp_path: Path) -> None:
    source = _tempo_change_midi(tmp_path / "change.mid")
    song = load_roll(source, SETTINGS)
    out = roll_to_midi(np.zeros_like(song.roll), song.times, SETTINGS, template=read_midi(source))
    out.write(str(tmp_path / "empty.mid"))
    assert len(mido.MidiFile(str(tmp_path / "empty.mid")).tracks) >= 1
    assert pretty_midi.PrettyMIDI(str(tmp_path / "empty.mid")).get_tempo_changes()[1][0] == pytest.approx(120)


def test_phrases_drop_empty_chunks_and_pad_the_last() -> None:
    roll = np.zeros((1, 150, 84), dtype=np.uint8)
    roll[0, 10, 5] = roll[0, 140, 7] = 1
    phrases, kept = cut_phrases(roll, 64)
    assert phrases.shape == (2, 1, 64, 84) and kept.tolist() == [0, 2]
    assert cut_phrases(roll, 64, keep_empty=True)[0].shape[0] == 3


def _write(path: Path, build) -> Path:
    mid = mido.MidiFile(ticks_per_beat=480)
    build(mid)
    mid.save(str(path))
    return path


def _bad_files(folder: Path) -> dict[str, tuple[Path, str]]:
    def notes(mid: mido.MidiFile, channel: int = 0, tempo: int | None = None, tracks: int = 1) -> None:
        for t in range(tracks):
            track = mido.MidiTrack()
            if tempo is not None and t == 0:
                track.append(mido.MetaMessage("set_tempo", tempo=tempo, time=0))
            if t == 0:
                track.append(mido.Message("note_on", note=60, velocity=80, channel=channel, time=0))
                track.append(mido.Message("note_off", note=60, velocity=0, channel=channel, time=480))
            mid.tracks.append(track)

    (folder / "text.mid").write_text("this is not a MIDI file")
    good = _write(folder / "good.mid", notes)
    (folder / "truncated.mid").write_bytes(good.read_bytes()[:20])
    return {
        "text": (folder / "text.mid", "not a MIDI file"),
        "truncated": (folder / "truncated.mid", "corrupt MIDI file"),
        "no notes": (_write(folder / "silent.mid", lambda m: m.tracks.append(mido.MidiTrack())), "no notes"),
        "drums": (_write(folder / "drums.mid", lambda m: notes(m, channel=9)), "drums only"),
        "tempo": (_write(folder / "fast.mid", lambda m: notes(m, tempo=1)), "absurd tempo"),
        "tracks": (_write(folder / "tracks.mid", lambda m: notes(m, tracks=2000)), "tracks"),
    }


def test_every_bad_file_gets_a_one_line_reason_and_the_rest_continue(tmp_path: Path) -> None:
    bad = _bad_files(tmp_path)
    for label, (path, reason) in bad.items():
        with pytest.raises(InputFileError, match=reason) as caught:
            load_roll(path, SETTINGS)
        assert "\n" not in str(caught.value), label
    files = sorted([tmp_path / "good.mid", *(p for p, _ in bad.values())])
    corpus = load_corpus(files, SETTINGS, tmp_path / "cache", workers=2)
    assert corpus.paths == [tmp_path / "good.mid"] and len(corpus.failed) == len(bad)


def test_cache_is_used_on_the_second_read(tmp_path: Path) -> None:
    path = _tempo_change_midi(tmp_path / "a.mid")
    first = load_corpus([path], SETTINGS, tmp_path / "cache", workers=1)
    cached = list((tmp_path / "cache").glob("*.npz"))
    assert len(cached) == 1
    path.write_bytes(path.read_bytes())  # same content, same key
    second = load_corpus([path], SETTINGS, tmp_path / "cache", workers=1)
    assert np.array_equal(first.songs[0].roll, second.songs[0].roll)
