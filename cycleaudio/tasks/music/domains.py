"""A recipe's domain entries (folders or built-in styles) -> phrases, statistics and training sources."""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import torch

from ...errors import CycleAudioError
from ...jobs import find_inputs
from .corpus import SUFFIXES, Corpus, corpus_phrases, load_corpus
from .domain_check import range_statistics
from .metrics import pitch_class_histogram
from .settings import BUILTIN_PREFIX, MusicData, MusicFeatures
from .synthetic import STYLES, write_style


@dataclass
class Domain:
    """One domain's songs and their non-empty phrases (uint8, (N, C, steps, pitches))."""

    name: str
    corpus: Corpus
    phrases: torch.Tensor


def domain_files(entry: str, cache_dir: Path, builtin_songs: int) -> list[Path]:
    """The MIDI files of a ``data`` entry: a folder (recursive) or ``builtin:<style>`` (written on demand)."""
    if entry.startswith(BUILTIN_PREFIX):
        style = entry[len(BUILTIN_PREFIX):]
        if style not in STYLES:
            raise CycleAudioError(f"unknown built-in style {style!r}; choose builtin:{' or builtin:'.join(STYLES)}")
        return write_style(cache_dir / "builtin" / style, style, builtin_songs)
    return find_inputs(Path(entry).expanduser(), SUFFIXES)


def split_songs(files: list[Path], test_fraction: float) -> tuple[list[Path], list[Path]]:
    """(train, test) by a hash of each file's name: stable across runs and machines, about ``test_fraction`` held out."""
    test = [p for p in files if zlib.crc32(p.name.encode()) % 1000 < test_fraction * 1000]
    train = [p for p in files if p not in set(test)]
    if not test or not train:
        if len(files) < 2:
            raise CycleAudioError(f"{len(files)} song(s): need at least 2 to hold some out for testing")
        cut = max(1, round(len(files) * test_fraction))
        return files[cut:], files[:cut]
    return train, test


def load_domain(name: str, files: list[Path], features: MusicFeatures, cache_dir: Path, workers: int,
                log: Callable[[str], None] | None = None) -> Domain:
    """Parse (or read cached) songs and cut their phrases; fails clearly when nothing is usable."""
    corpus = load_corpus(files, features.roll_settings(), cache_dir, workers)
    for path, reason in corpus.failed:
        if log is not None:
            log(f"skipped {path}: {reason}")
    try:
        phrases = corpus_phrases(corpus, features.phrase_steps)
    except CycleAudioError:
        reasons = "; ".join(f"{p.name}: {r}" for p, r in corpus.failed[:3])
        raise CycleAudioError(f"domain {name}: no usable phrases in {len(files)} file(s)"
                              + (f" ({reasons})" if reasons else "")) from None
    return Domain(name, corpus, phrases)


def cache_folder(data: MusicData, exp_dir: Path) -> Path:
    return Path(data.cache_dir).expanduser() if data.cache_dir else exp_dir / "cache"


def domain_statistics(domain: Domain, lowest_pitch: int) -> dict[str, object]:
    """Tensors, numbers and strings only: what a checkpoint carries about a domain (density and the
    range statistics also serve the in-domain check of conversion inputs)."""
    on = domain.phrases[:, 0]
    return {
        **range_statistics(domain.corpus.songs, domain.phrases, lowest_pitch),
        "songs": len(domain.corpus.songs),
        "skipped": len(domain.corpus.failed),
        "phrases": int(domain.phrases.shape[0]),
        "density": float(on.float().mean()),
        "pitch_class_histogram": pitch_class_histogram(on.reshape(1, -1, on.shape[-1]), lowest_pitch)[0],
    }
