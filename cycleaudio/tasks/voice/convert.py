"""Whole-utterance voice conversion of files and folders.

WORLD models, per file: read -> WORLD analysis (worker process) -> normalise with the SOURCE domain's
statistics -> generator (main process, on the model's device) -> de-normalise with the TARGET domain's
statistics, log-Gaussian F0 transform, aperiodicity passed through -> WORLD synthesis and write (worker
process).  Mel models (:mod:`.mel_convert`) read in the workers and do analysis, generator and vocoder
on the device.  Either way, reading of later files overlaps with conversion and writing of earlier ones.
"""

from __future__ import annotations

import dataclasses
import time
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from functools import partial
from multiprocessing import get_context
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch
from torch import nn
from ...progress import tqdm

from ...config import section_view
from ...engine.bundle import ModelBundle
from ...errors import InputFileError
from ...jobs import FileJob, JobReport, plan_jobs
from ..domain import Checker, DomainGate
from .audio import AUDIO_SUFFIXES, read_audio, write_audio
from .features import denormalise, normalise, worker_count
from .world import WorldFrames, WorldSettings, analyze, convert_f0, synthesize


def world_settings(recipe: Any) -> WorldSettings:
    """The WORLD settings of a voice recipe (its ``features`` section extends them)."""
    return section_view(recipe.features, WorldSettings)


@dataclass(frozen=True)
class Pipeline:
    """The three stages of converting one file: ``analyse`` and ``write`` run in worker processes (so
    they must be picklable), ``convert`` in the main process where the model lives."""

    analyse: Callable[[Path], tuple[Any, float]]
    convert: Callable[[Any], Any]
    write: Callable[[Any, Path], Path]


def _analyse_file(path: Path, settings: WorldSettings) -> tuple[WorldFrames, float]:
    wave = read_audio(path, settings.sample_rate)
    frames = analyze(wave, settings)
    if frames.envelope.shape[0] < 4:
        raise InputFileError(path, "too short to convert (fewer than 4 frames)")
    return frames, len(wave) / settings.sample_rate


def _synthesise_file(frames: WorldFrames, target: Path, settings: WorldSettings) -> Path:
    write_audio(target, synthesize(frames, settings), settings.sample_rate)
    return target


@torch.no_grad()
def convert_features(bundle: ModelBundle, direction: str, features: np.ndarray, key: str) -> np.ndarray:
    """(T, D) source features -> (T, D) converted, normalised with the ``<key>_mean/std`` statistics of
    the SOURCE domain and de-normalised with the TARGET's; pads to the generator's time multiple."""
    source, target = bundle.domains(direction)
    stats = bundle.statistics
    x = normalise(features, stats[source], key)
    frames = x.shape[1]
    multiple = getattr(bundle.generator(direction), "time_multiple", 1)
    padded = -(-frames // multiple) * multiple
    x = np.pad(x, ((0, 0), (0, padded - frames)), mode="edge")
    tensor = torch.from_numpy(x).float().unsqueeze(0).to(bundle.device)
    y = bundle.generator(direction)(tensor)[0, :, :frames].float().cpu().numpy()
    return denormalise(y.astype(np.float64), stats[target], key)


def statistics_only(bundle: ModelBundle) -> ModelBundle:
    """``bundle`` with the identity in place of both generators.

    Converting with it keeps everything that does not need the learned mapping (source statistics out,
    target statistics in, the log-Gaussian F0 transform, the vocoder), so its results are the baseline
    that shows what the generator adds on top of matching per-speaker statistics.
    """
    return dataclasses.replace(bundle, g_ab=nn.Identity(), g_ba=nn.Identity())


def convert_envelope(bundle: ModelBundle, direction: str, envelope: np.ndarray) -> np.ndarray:
    """(T, D) source coded envelope -> (T, D) converted envelope."""
    return convert_features(bundle, direction, envelope, "envelope")


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


def world_pipeline(bundle: ModelBundle, direction: str) -> Pipeline:
    settings = world_settings(bundle.recipe)
    return Pipeline(partial(_analyse_file, settings=settings), partial(convert_frames, bundle, direction),
                    partial(_synthesise_file, settings=settings))


def convert_voice_files(bundle: ModelBundle, direction: str, source: Path, target: Path,
                        options: Any, pipeline: Pipeline | None = None, *, checker: Checker) -> JobReport:
    """Convert a file or folder; ``pipeline`` defaults to the WORLD one.  ``checker`` measures every
    analysed input against the source domain."""
    pipeline = pipeline or world_pipeline(bundle, direction)
    jobs, refused = plan_jobs(source, target, AUDIO_SUFFIXES, ".wav", overwrite=options.overwrite)
    report = JobReport(failed=list(refused))
    gate = DomainGate(report, checker, options.strict)
    workers = min(worker_count(options.workers), max(len(jobs), 1))
    pool = ProcessPoolExecutor(workers, mp_context=get_context("fork")) if workers > 1 else _InlineExecutor()
    started = time.perf_counter()
    audio_seconds = 0.0
    bar = tqdm(total=len(jobs), desc=f"convert {direction}", unit="file", disable=not options.progress)
    with pool:
        window = 2 * workers
        analyses: list[tuple[FileJob, Future]] = []
        writes: list[tuple[FileJob, Future]] = []
        pending = list(jobs)
        while pending or analyses:
            while pending and len(analyses) < window:
                job = pending.pop(0)
                analyses.append((job, pool.submit(pipeline.analyse, job.source)))
            job, future = analyses.pop(0)
            try:
                analysed, seconds = future.result()
            except InputFileError as exc:
                report.failed.append((job.source, exc.reason))
                bar.update()
                continue
            if not gate.admit(job.source, analysed):
                bar.update()
                continue
            audio_seconds += seconds
            converted = pipeline.convert(analysed)
            writes.append((job, pool.submit(pipeline.write, converted, job.target)))
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
