"""Objective voice-conversion metrics against parallel references.

Cepstrum definition (fixed, named in every report): WORLD's coded spectral envelope
(``pyworld.code_spectral_envelope``) of 36 coefficients from harvest + CheapTrick analysis at the
reference's sample rate with 5 ms frames; MCD uses c1..c35 (c0, the energy term, excluded):
MCD = 10 / ln(10) * sqrt(2 * sum_d (c_d - c'_d)^2), averaged over DTW-aligned frames.  The DTW path is
computed on the same c1..c35 vectors.  F0 metrics use the frames of that path voiced in both files.
Pairs are scored in a process pool (harvest dominates the cost); results come back in pair order, so
every number equals a serial run's.
"""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import librosa
import numpy as np

from ...errors import CycleAudioError, InputFileError
from ...progress import tqdm
from .audio import AUDIO_SUFFIXES, read_audio
from .features import worker_count
from .world import WorldSettings, analyze

CEPSTRUM = "WORLD coded spectral envelope, 36 dims (pyworld.code_spectral_envelope), c1-c35, harvest F0, 5 ms frames"
MCD_SCALE = 10.0 / np.log(10.0) * np.sqrt(2.0)


@dataclass
class PairScores:
    """Scores of one file against its reference.  ``log_f0_mean_error_cents`` is the size of the
    difference of the two files' mean log-F0; ``log_f0_offset_cents`` is the same difference with its
    sign (converted minus reference), so its mean over a set is the set's pitch bias: a conversion that
    hits the target speaker's register scores near 0 there even when single sentences are said higher
    or lower than the speaker's average, which no conversion can know."""

    mcd_db: float
    f0_rmse_hz: float
    log_f0_rmse_cents: float
    log_f0_corr: float
    log_f0_mean_error_cents: float
    log_f0_offset_cents: float
    aligned_frames: int


def metric_settings(sample_rate: int) -> WorldSettings:
    """The analysis every score uses (the cepstrum definition above), at the references' rate."""
    return WorldSettings(sample_rate=sample_rate, envelope_dim=36)


def wave_features(wave: np.ndarray, settings: WorldSettings) -> tuple[np.ndarray, np.ndarray]:
    """(c1..c35 per frame, F0) of a waveform at ``settings.sample_rate``: what :func:`score_features` compares."""
    frames = analyze(wave, settings)
    return frames.envelope[:, 1:], frames.f0


def score_features(converted: tuple[np.ndarray, np.ndarray], reference: tuple[np.ndarray, np.ndarray]) -> PairScores:
    """MCD and F0 errors of one converted (or source) utterance against its parallel reference, both given
    as :func:`wave_features`; training validation scores in-memory conversions with it exactly as files are."""
    cep_x, f0_x = converted
    cep_y, f0_y = reference
    _, path = librosa.sequence.dtw(X=cep_x.T, Y=cep_y.T, metric="euclidean")
    i, j = path[::-1, 0], path[::-1, 1]
    mcd = float(np.mean(MCD_SCALE * np.sqrt(np.sum((cep_x[i] - cep_y[j]) ** 2, axis=1))))
    voiced = (f0_x[i] > 0) & (f0_y[j] > 0)
    if voiced.sum() < 2:
        nan = float("nan")
        return PairScores(mcd, nan, nan, nan, nan, nan, len(i))
    fx, fy = f0_x[i][voiced], f0_y[j][voiced]
    cents = 1200.0 * (np.log2(fx) - np.log2(fy))
    offset = 1200.0 * (np.log2(f0_x[f0_x > 0]).mean() - np.log2(f0_y[f0_y > 0]).mean())
    return PairScores(
        mcd_db=mcd,
        f0_rmse_hz=float(np.sqrt(np.mean((fx - fy) ** 2))),
        log_f0_rmse_cents=float(np.sqrt(np.mean(cents**2))),
        log_f0_corr=float(np.corrcoef(np.log(fx), np.log(fy))[0, 1]),
        log_f0_mean_error_cents=float(abs(offset)),
        log_f0_offset_cents=float(offset),
        aligned_frames=len(i),
    )


def file_features(path: Path, settings: WorldSettings) -> tuple[np.ndarray, np.ndarray]:
    """:func:`wave_features` of a file, read (and resampled) at ``settings.sample_rate``."""
    return wave_features(read_audio(path, settings.sample_rate), settings)


def score_pair(converted: Path, reference: Path, sample_rate: int) -> PairScores:
    """MCD and F0 errors of one converted (or source) file against its parallel reference."""
    settings = metric_settings(sample_rate)
    return score_features(file_features(converted, settings), file_features(reference, settings))


def match_by_name(converted: Path, reference: Path) -> list[tuple[Path, Path]]:
    """Pair files by relative path, falling back to the file stem; unmatched files are an error."""
    def index(root: Path) -> dict[str, Path]:
        files = [root] if root.is_file() else [p for p in root.rglob("*") if p.suffix.lower() in AUDIO_SUFFIXES]
        return {p.stem: p for p in files}

    conv, ref = index(converted), index(reference)
    pairs = [(conv[k], ref[k]) for k in sorted(conv) if k in ref]
    if not pairs:
        raise CycleAudioError(f"{converted}: no file has a reference of the same name in {reference}")
    return pairs


def _mean(rows: list[PairScores]) -> dict[str, float]:
    keys = [k for k in PairScores.__dataclass_fields__ if k != "aligned_frames"]
    return {k: float(np.nanmean([getattr(r, k) for r in rows])) for k in keys}


def _inputs_of(folder: Path, reference: Path, names: set[str]) -> dict[str, Path]:
    """The files of ``folder`` (unconverted or baseline inputs) by stem; one missing for a converted
    file is an error, so every row of the table averages over the same pairs."""
    if not folder.exists():
        raise CycleAudioError(f"{folder}: no such file or folder")
    found = {c.stem: c for c, _ in match_by_name(folder, reference)}
    missing = sorted(names - set(found))
    if missing:
        raise CycleAudioError(f"{folder}: no file for {', '.join(missing[:5])}")
    return found


def _score_row(job: tuple[Path, Path, dict[str, Path], int]) -> tuple[dict[str, Any] | None, dict[str, str] | None]:
    """Worker: (row, None) with the scores of a converted file and its other inputs against their
    reference, or (None, failure) naming the file that could not be read."""
    conv, ref, others, sample_rate = job
    try:
        row = {"name": conv.stem, "converted": score_pair(conv, ref, sample_rate).__dict__}
        for label, path in others.items():
            row[label] = score_pair(path, ref, sample_rate).__dict__
    except InputFileError as exc:
        return None, {"file": str(exc.path), "reason": exc.reason}
    return row, None


def evaluate_voice(converted: Path, reference: Path, source: Path | None, baseline: Path | None = None,
                   workers: int | None = None, progress: bool = True) -> dict:
    """Scores of ``converted`` against ``reference``, and as rows of their own the unconverted
    ``source`` files and the ``baseline`` (statistics-only) conversions of the same inputs; ``workers``
    processes (None: every core)."""
    pairs = match_by_name(converted, reference)
    sample_rate = int(librosa.get_samplerate(str(pairs[0][1])))
    names = {c.stem for c, _ in pairs}
    others = {label: _inputs_of(folder, reference, names)
              for label, folder in (("source", source), ("statistics_only", baseline)) if folder}
    jobs = [(conv, ref, {label: inputs[conv.stem] for label, inputs in others.items()}, sample_rate)
            for conv, ref in pairs]
    workers = min(worker_count(workers), len(jobs))
    bar = tqdm(total=len(jobs), desc="evaluate", unit="pair", disable=not progress, leave=False)
    files, failed = [], []
    with ProcessPoolExecutor(workers, mp_context=get_context("fork")) if workers > 1 else nullcontext() as pool:
        for row, failure in (pool.map if pool is not None else map)(_score_row, jobs):
            if row is not None:
                files.append(row)
            else:
                failed.append(failure)
            bar.update()
    bar.close()
    if not files:
        raise CycleAudioError(f"{converted}: no pair could be evaluated ({failed[0]['reason'] if failed else ''})")
    result = {"task": "voice", "cepstrum": CEPSTRUM, "sample_rate": sample_rate, "pairs": len(files),
              "converted": _mean([PairScores(**r["converted"]) for r in files]), "files": files, "failed": failed}
    for label in others:
        result[label] = _mean([PairScores(**r[label]) for r in files])
    return result


#: (JSON key, row label) of the table, baselines first
ROWS = (("source", "unconverted"), ("statistics_only", "statistics-only"), ("converted", "converted"))
#: (JSON key, column title) of the table
COLUMNS = (("mcd_db", "MCD [dB]"), ("f0_rmse_hz", "F0 RMSE [Hz]"), ("log_f0_rmse_cents", "logF0 RMSE [cent]"),
           ("log_f0_corr", "logF0 corr"), ("log_f0_mean_error_cents", "logF0 mean err [cent]"),
           ("log_f0_offset_cents", "logF0 bias [cent]"))


def format_voice_evaluation(result: dict) -> str:
    width = max(len(label) for _, label in ROWS) + 1
    lines = [f"{result['pairs']} pairs; cepstrum: {result['cepstrum']}",
             f"{'':<{width}}" + "".join(f"{title:>22}" for _, title in COLUMNS)]
    for key, label in ROWS:
        if key in result:
            lines.append(f"{label:<{width}}" + "".join(f"{result[key][column]:>22.3f}" for column, _ in COLUMNS))
    for item in result.get("failed", []):
        lines.append(f"failed: {item['file']}: {item['reason']}")
    return "\n".join(lines)
