"""Folders of MIDI files -> cached beat-grid rolls -> training phrases, in parallel.

Each file is parsed once per roll setting; its roll and step times go into ``cache_dir`` under a key of
the file's content hash and the settings, so a second run (or another recipe with the same grid) reads
arrays instead of parsing MIDI.  Files are spread over worker processes.  A bad file is skipped with
its one-line reason; a folder with no usable phrase is an error.
"""

from __future__ import annotations

import hashlib
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from ...errors import CycleAudioError, InputFileError
from ...files import replaced_atomically
from ...jobs import find_inputs
from .roll import RollSettings, SongRoll, load_roll

SUFFIXES = (".mid", ".midi")


@dataclass
class Corpus:
    """The songs of one domain that could be used, and the files that could not (with reasons)."""

    paths: list[Path] = field(default_factory=list)
    songs: list[SongRoll] = field(default_factory=list)
    failed: list[tuple[Path, str]] = field(default_factory=list)


def _cache_file(path: Path, settings: RollSettings, cache_dir: Path) -> Path:
    digest = hashlib.sha1(path.read_bytes()).hexdigest()
    return cache_dir / f"{digest}-{settings.key()}.npz"


def _load_one(job: tuple[Path, RollSettings, Path | None]) -> SongRoll | str:
    """Roll of one file (from the cache when present); a string is the reason it is unusable."""
    path, settings, cache_dir = job
    try:
        cached = _cache_file(path, settings, cache_dir) if cache_dir is not None else None
        if cached is not None and cached.is_file():
            with np.load(cached) as stored:
                return SongRoll(stored["roll"], stored["times"])
        song = load_roll(path, settings)
        if cached is not None:
            with replaced_atomically(cached, keep_suffix=True) as tmp:
                np.savez_compressed(tmp, roll=song.roll, times=song.times)
        return song
    except InputFileError as exc:
        return exc.reason
    except OSError as exc:
        return f"cannot read ({exc.strerror or exc})"


def default_workers() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1))


def load_corpus(files: list[Path], settings: RollSettings, cache_dir: Path | None, workers: int = 0) -> Corpus:
    """Rolls of ``files`` in order; ``workers`` 0 means one per core, 1 means in this process."""
    if cache_dir is not None:
        cache_dir.mkdir(parents=True, exist_ok=True)
    jobs = [(p, settings, cache_dir) for p in files]
    workers = workers or default_workers()
    if workers > 1 and len(jobs) > 1:
        with ProcessPoolExecutor(min(workers, len(jobs))) as pool:
            results = list(pool.map(_load_one, jobs, chunksize=max(1, len(jobs) // (8 * workers))))
    else:
        results = [_load_one(job) for job in jobs]
    corpus = Corpus()
    for path, result in zip(files, results):
        if isinstance(result, str):
            corpus.failed.append((path, result))
        else:
            corpus.paths.append(path)
            corpus.songs.append(result)
    return corpus


def load_folder(folder: Path, settings: RollSettings, cache_dir: Path | None, workers: int = 0) -> Corpus:
    """Every MIDI file below ``folder`` (recursively)."""
    return load_corpus(find_inputs(folder, SUFFIXES), settings, cache_dir, workers)


def cut_phrases(roll: np.ndarray, phrase_steps: int, keep_empty: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Consecutive ``phrase_steps`` chunks of a (C, steps, P) roll, the last one zero-padded.

    Returns ``(phrases (N, C, phrase_steps, P), indices)``; without ``keep_empty`` all-empty phrases
    are dropped and ``indices`` tells which chunks remain.
    """
    channels, steps, pitches = roll.shape
    count = max(1, -(-steps // phrase_steps))
    padded = np.zeros((channels, count * phrase_steps, pitches), dtype=roll.dtype)
    padded[:, :steps] = roll
    phrases = padded.reshape(channels, count, phrase_steps, pitches).transpose(1, 0, 2, 3)
    indices = np.arange(count) if keep_empty else np.flatnonzero(phrases[:, 0].reshape(count, -1).any(axis=1))
    return phrases[indices], indices


def corpus_phrases(corpus: Corpus, phrase_steps: int) -> torch.Tensor:
    """All non-empty phrases of a corpus as one uint8 tensor (N, C, phrase_steps, P)."""
    parts = [cut_phrases(song.roll, phrase_steps)[0] for song in corpus.songs]
    parts = [p for p in parts if len(p)]
    if not parts:
        raise CycleAudioError("no usable phrases")
    return torch.from_numpy(np.concatenate(parts))


def to_model_input(phrases: torch.Tensor) -> torch.Tensor:
    """uint8 phrases -> float in [0, 1]: on/off as is, velocity divided by 127."""
    x = phrases.float()
    if x.shape[1] > 1:
        x[:, 1:] = x[:, 1:] / 127.0
    return x


class PhraseSource:
    """A domain's phrases in memory (uint8); batches of whole phrases drawn with the trainer's generator."""

    def __init__(self, phrases: torch.Tensor) -> None:
        if len(phrases) == 0:
            raise ValueError("no phrases")
        self.phrases = phrases

    def __len__(self) -> int:
        return len(self.phrases)

    def sample(self, batch_size: int, generator: torch.Generator) -> torch.Tensor:
        picks = torch.randint(len(self.phrases), (batch_size,), generator=generator)
        return to_model_input(self.phrases[picks])
