"""Whole-utterance voice conversion of files and folders with a WORLD-feature model.

Pipeline per file: read -> WORLD analysis (worker process) -> normalise with the SOURCE domain's
statistics -> generator (main process, on the model's device) -> de-normalise with the TARGET domain's
statistics, log-Gaussian F0 transform, aperiodicity passed through -> WORLD synthesis and write (worker
process).  Analysis of later files overlaps with generation and synthesis of earlier ones.
"""

from __future__ import annotations

import time
from concurrent.futures import Future, ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch
from tqdm import tqdm

from ...bundle import ModelBundle
from ...errors import InputFileError
from ...jobs import FileJob, JobReport, plan_jobs
from .audio import AUDIO_SUFFIXES, read_audio, write_audio
from .features import denormalise, normalise, worker_count
from .world import WorldFrames, WorldSettings, analyze, convert_f0, synthesize


def world_settings(recipe: Any) -> WorldSettings:
    f = recipe.features
    return WorldSettings(f.sample_rate, f.frame_period, f.envelope_dim, f.f0_method, f.f0_floor, f.f0_ceil)


def _analyse_file(job: tuple[Path, WorldSettings]) -> tuple[WorldFrames, float]:
    path, settings = job
    wave = read_audio(path, settings.sample_rate)
    frames = analyze(wave, settings)
    if frames.envelope.shape[0] < 4:
        raise InputFileError(path, "too short to convert (fewer than 4 frames)")
    return frames, len(wave) / settings.sample_rate


def _synthesise_file(job: tuple[WorldFrames, WorldSettings, Path]) -> Path:
    frames, settings, target = job
    write_audio(target, synthesize(frames, settings), settings.sample_rate)
    return target


@torch.no_grad()
def convert_envelope(bundle: ModelBundle, direction: str, envelope: np.ndarray) -> np.ndarray:
    """(T, D) source envelope -> (T, D) converted envelope; pads to the generator's time multiple."""
    source, target = bundle.domains(direction)
    stats = bundle.statistics
    x = normalise(envelope, stats[source])
    frames = x.shape[1]
    multiple = getattr(bundle.generator(direction), "time_multiple", 1)
    padded = -(-frames // multiple) * multiple
    x = np.pad(x, ((0, 0), (0, padded - frames)), mode="edge")
    tensor = torch.from_numpy(x).float().unsqueeze(0).to(bundle.device)
    y = bundle.generator(direction)(tensor)[0, :, :frames].float().cpu().numpy()
    return denormalise(y.astype(np.float64), stats[target])


def convert_frames(bundle: ModelBundle, direction: str, frames: WorldFrames) -> WorldFrames:
    source, target = bundle.domains(direction)
    stats = bundle.statistics
    f0 = convert_f0(frames.f0, (stats[source]["log_f0_mean"], stats[source]["log_f0_std"]),
                    (stats[target]["log_f0_mean"], stats[target]["log_f0_std"]))
    return WorldFrames(f0, convert_envelope(bundle, direction, frames.envelope), frames.aperiodicity)


class _InlineExecutor:
    """Runs submitted calls immediately, so the serial path shares the pooled path's code."""

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future:
        future: Future = Future()
        try:
            future.set_result(fn(*args))
        except BaseException as exc:  # delivered through the future like a pool would
            future.set_exception(exc)
        return future

    def __enter__(self) -> "_InlineExecutor":
        return self

    def __exit__(self, *exc: Any) -> None:
        return None


def convert_voice_files(bundle: ModelBundle, direction: str, source: Path, target: Path,
                        options: dict[str, Any]) -> JobReport:
    settings = world_settings(bundle.recipe)
    jobs, refused = plan_jobs(source, target, AUDIO_SUFFIXES, ".wav", overwrite=bool(options.get("overwrite")))
    report = JobReport(failed=list(refused))
    workers = min(worker_count(options.get("workers")), max(len(jobs), 1))
    pool = ProcessPoolExecutor(workers, mp_context=get_context("fork")) if workers > 1 else _InlineExecutor()
    started = time.perf_counter()
    audio_seconds = 0.0
    bar = tqdm(total=len(jobs), desc=f"convert {direction}", unit="file", disable=not options.get("progress", True))
    with pool:
        window = 2 * workers
        analyses: list[tuple[FileJob, Future]] = []
        writes: list[tuple[FileJob, Future]] = []
        pending = list(jobs)
        while pending or analyses:
            while pending and len(analyses) < window:
                job = pending.pop(0)
                analyses.append((job, pool.submit(_analyse_file, (job.source, settings))))
            job, future = analyses.pop(0)
            try:
                frames, seconds = future.result()
            except InputFileError as exc:
                report.failed.append((job.source, exc.reason))
                bar.update()
                continue
            audio_seconds += seconds
            converted = convert_frames(bundle, direction, frames)
            writes.append((job, pool.submit(_synthesise_file, (converted, settings, job.target))))
            bar.update()
        for job, future in writes:
            try:
                report.written.append(future.result())
            except OSError as exc:
                report.failed.append((job.source, f"cannot write {job.target} ({exc.strerror or exc})"))
    bar.close()
    elapsed = time.perf_counter() - started
    report.metrics.update({"audio_seconds": audio_seconds, "wall_seconds": elapsed,
                           "real_time_factor": elapsed / max(audio_seconds, 1e-9),
                           "times_real_time": audio_seconds / max(elapsed, 1e-9), "workers": workers})
    return report
