"""Feature extraction for training: parallel WORLD analysis into a content-keyed cache, then statistics.

The cache key is the hash of the file's bytes plus the feature settings, so a renamed file is still a
cache hit, an edited file or a changed setting is a miss, and later runs (or other recipes with the same
settings) reuse the work.  Extraction runs in a process pool because harvest dominates the cost.
"""

from __future__ import annotations

import hashlib
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import numpy as np
import torch
from ...progress import tqdm

from ...errors import CycleAudioError, InputFileError
from ...files import replaced_atomically
from ...jobs import find_inputs
from .audio import AUDIO_SUFFIXES, read_audio
from .world import WorldSettings, analyze, log_f0_statistics


def default_cache_dir() -> Path:
    return Path(os.environ.get("CYCLEAUDIO_CACHE") or Path.home() / ".cache" / "cycleaudio")


def worker_count(requested: int | None) -> int:
    """``0``/None means every core this process may use."""
    if requested:
        return max(1, requested)
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def audio_files(folder: Path) -> list[Path]:
    """Every audio file below a training folder, sorted."""
    if not folder.is_dir():
        raise CycleAudioError(f"{folder}: no such folder of audio files")
    return find_inputs(folder, AUDIO_SUFFIXES)


@dataclass
class Utterance:
    """Cached training features of one file."""

    path: Path
    f0: np.ndarray  # (T,)
    envelope: np.ndarray  # (T, D)


def content_cache_path(path: Path, settings: Any, cache_dir: Path, kind: str, suffix: str) -> Path:
    """Cache file of ``path``'s features: keyed by the file's bytes and the (dataclass) settings."""
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:24]
    tag = hashlib.sha256(repr(sorted(asdict(settings).items())).encode()).hexdigest()[:12]
    return cache_dir / kind / tag / f"{digest}{suffix}"


def save_cached(cached: Path, array: np.ndarray | None = None, **arrays: np.ndarray) -> None:
    """Write one array (.npy) or several (.npz) to a temporary file and rename it into place."""
    with replaced_atomically(cached, keep_suffix=True) as tmp:
        if array is not None:
            np.save(tmp, array)
        else:
            np.savez(tmp, **arrays)


def _cache_path(path: Path, settings: WorldSettings, cache_dir: Path) -> Path:
    return content_cache_path(path, settings, cache_dir, "world", ".npz")


def _extract(job: tuple[Path, WorldSettings, Path, float]) -> tuple[Path, Path | None, str | None]:
    """Worker: cache hit or analyse one file. Returns (file, cache path, failure reason)."""
    path, settings, cache_dir, min_seconds = job
    try:
        cached = _cache_path(path, settings, cache_dir)
        if not cached.exists():
            wave = read_audio(path, settings.sample_rate, min_seconds)
            frames = analyze(wave, settings)
            if not np.any(frames.f0 > 0):
                raise InputFileError(path, "has no voiced frames (no F0 found)")
            save_cached(cached, f0=frames.f0.astype(np.float32), envelope=frames.envelope.astype(np.float32))
        return path, cached, None
    except InputFileError as exc:
        return path, None, exc.reason
    except OSError as exc:
        return path, None, f"cannot read ({exc.strerror or exc})"


def extract_features(files: list[Path], settings: WorldSettings, cache_dir: Path, workers: int = 0,
                     min_seconds: float = 0.0, progress: bool = True, label: str = "features"
                     ) -> tuple[list[Utterance], list[tuple[Path, str]]]:
    """Analyse (or load from cache) every file; returns the utterances and the (file, reason) failures."""
    jobs = [(p, settings, cache_dir, min_seconds) for p in files]
    n = min(worker_count(workers), len(jobs))
    bar = tqdm(total=len(jobs), desc=label, unit="file", disable=not progress, leave=False)
    results = []
    if n <= 1:
        for job in jobs:
            results.append(_extract(job))
            bar.update()
    else:
        with ProcessPoolExecutor(n, mp_context=get_context("fork")) as pool:
            for result in pool.map(_extract, jobs):
                results.append(result)
                bar.update()
    bar.close()
    utterances, failures = [], []
    for path, cached, reason in results:
        if cached is None:
            failures.append((path, reason or "unknown failure"))
            continue
        with np.load(cached) as data:
            utterances.append(Utterance(path, data["f0"].astype(np.float64), data["envelope"].astype(np.float64)))
    return utterances, failures


def domain_statistics(utterances: list[Utterance]) -> dict[str, torch.Tensor | float | int]:
    """Per-dimension mean/std of the envelope over all frames, log-F0 mean/std over voiced frames, and
    the voiced range (1st and 99th percentile of log-F0) the in-domain check of conversion inputs
    compares with."""
    stacked = np.concatenate([u.envelope for u in utterances])
    log_f0_mean, log_f0_std = log_f0_statistics([u.f0 for u in utterances])
    low, high = np.percentile(np.concatenate([np.log(u.f0[u.f0 > 0]) for u in utterances]), [1, 99])
    return {
        "log_f0_low": float(low),
        "log_f0_high": float(high),
        "envelope_mean": torch.from_numpy(stacked.mean(axis=0)).float(),
        "envelope_std": torch.from_numpy(np.maximum(stacked.std(axis=0), 1e-8)).float(),
        "log_f0_mean": log_f0_mean,
        "log_f0_std": log_f0_std,
        "files": len(utterances),
    }


def normalise(envelope: np.ndarray, stats: dict, key: str = "envelope") -> np.ndarray:
    """(T, D) features -> (D, T) standardised with a domain's ``<key>_mean``/``<key>_std`` statistics."""
    mean, std = np.asarray(stats[f"{key}_mean"]), np.asarray(stats[f"{key}_std"])
    return ((envelope - mean) / std).T


def denormalise(normalised: np.ndarray, stats: dict, key: str = "envelope") -> np.ndarray:
    """(D, T) standardised -> (T, D) features in a domain's scale (the TARGET domain's, when converting)."""
    mean, std = np.asarray(stats[f"{key}_mean"]), np.asarray(stats[f"{key}_std"])
    return normalised.T * std + mean


#: ``features.condition`` -> how many per-frame condition rows the generators see beside the features.
CONDITION_ROWS = {"none": 0, "voicing": 1, "voicing_f0": 2}


def condition_rows(f0: np.ndarray, stats: dict, condition: str) -> np.ndarray:
    """(rows, T) per-frame conditions of an utterance with F0 ``f0`` (T,) of a speaker with ``stats``.

    ``voicing``: +1 on voiced frames, -1 on unvoiced ones; ``voicing_f0`` adds log-F0 standardised with
    the speaker's log-F0 mean and deviation (0 where unvoiced).  Standardised log-F0 is what the
    log-Gaussian F0 transform keeps, so the same row describes the source frame and its conversion,
    and both generators of the cycle read it alike.
    """
    voiced = f0 > 0
    rows = [np.where(voiced, 1.0, -1.0)]
    if condition == "voicing_f0":
        standardised = np.zeros(f0.shape, dtype=np.float64)
        standardised[voiced] = (np.log(f0[voiced]) - stats["log_f0_mean"]) / stats["log_f0_std"]
        rows.append(standardised)
    return np.stack(rows)[:CONDITION_ROWS[condition]]


def generator_input(features: np.ndarray, stats: dict, key: str, f0: np.ndarray | None = None,
                    condition: str = "none") -> np.ndarray:
    """(T, D) features -> (D + rows, T): normalised with ``stats`` (see :func:`normalise`), with the
    :func:`condition_rows` of ``condition`` appended; conditions need the utterance's F0."""
    normalised = normalise(features, stats, key)
    if condition == "none":
        return normalised
    if f0 is None:
        raise ValueError(f"features.condition '{condition}' needs the F0 of the utterance")
    return np.concatenate((normalised, condition_rows(f0, stats, condition)), axis=0)
