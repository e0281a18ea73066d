"""Voice conversion of files and folders, long recordings in pieces.

WORLD models, per piece: read -> WORLD analysis (worker process) -> normalise with the SOURCE domain's
statistics -> generator (main process, on the model's device) -> de-normalise with the TARGET domain's
statistics, log-Gaussian F0 transform, aperiodicity passed through -> WORLD synthesis (worker process)
-> joined and written (main process).  Mel models (:mod:`.mel_convert`) read in the workers and do
analysis, generator and vocoder on the device.  Either way, reading and analysis of later pieces overlap
with conversion and synthesis of earlier ones.  A recording longer than a piece (:mod:`.chunks`) is cut
at its pauses, so one long file keeps every core busy and memory does not grow with its length.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections import deque
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from functools import partial
from multiprocessing import get_context
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np
import soundfile as sf
import torch
from torch import nn
from ...progress import tqdm

from ...config import section_view
from ...engine.bundle import ModelBundle
from ...errors import CycleAudioError, InputFileError
from ...jobs import FileJob, JobReport, plan_jobs
from ..domain import Checker, DomainGate
from .audio import AUDIO_SUFFIXES, audio_seconds
from .chunks import MAX_SECONDS, JoinedWriter, Piece, plan_file, read_piece
from .features import denormalise, generator_input, worker_count
from .world import F0_METHODS, WorldFrames, WorldSettings, analyze, convert_f0, synthesize


def world_settings(recipe: Any, f0_method: str | None = None) -> WorldSettings:
    """The WORLD settings of a voice recipe (its ``features`` section extends them); ``f0_method``
    overrides its F0 method (``--f0-method``)."""
    if f0_method and f0_method not in F0_METHODS:
        raise CycleAudioError(f"unknown F0 method {f0_method!r}; choose from {', '.join(F0_METHODS)}")
    settings = section_view(recipe.features, WorldSettings)
    return dataclasses.replace(settings, f0_method=f0_method) if f0_method else settings


@dataclass(frozen=True)
class Pipeline:
    """The stages of converting one piece of a file: ``analyse`` (piece -> analysed input and the
    seconds of audio it stands for) and ``render`` (converted -> waveform) run in worker processes, so
    they must be picklable; ``convert`` runs in the main process where the model lives.  ``render``
    None means ``convert`` already returns the waveform."""

    analyse: Callable[[Piece], tuple[Any, float]]
    convert: Callable[[Any], Any]
    render: Callable[[Any], np.ndarray] | None
    sample_rate: int


def _analyse_piece(piece: Piece, settings: WorldSettings) -> tuple[WorldFrames, float]:
    wave, seconds = read_piece(piece, settings.sample_rate)
    frames = analyze(wave, settings)
    if frames.envelope.shape[0] < 4:
        raise InputFileError(piece.path, "too short to convert (fewer than 4 frames)")
    return frames, seconds


def pad_frames(features: np.ndarray, multiple: int) -> np.ndarray:
    """(D, T) features repeated at the end to a multiple of ``multiple`` frames: the generators down-
    and up-sample time, so whole utterances of any length go through once padded."""
    frames = features.shape[1]
    return np.pad(features, ((0, 0), (0, -(-frames // multiple) * multiple - frames)), mode="edge")


@torch.no_grad()
def convert_features(bundle: ModelBundle, direction: str, features: np.ndarray, key: str,
                     f0: np.ndarray | None = None) -> np.ndarray:
    """(T, D) source features -> (T, D) converted, normalised with the ``<key>_mean/std`` statistics of
    the SOURCE domain and de-normalised with the TARGET's; pads to the generator's time multiple.
    ``f0`` (T,) gives the generator its per-frame conditions when the recipe has ``features.condition``."""
    source, target = bundle.domains(direction)
    stats = bundle.statistics
    x = generator_input(features, stats[source], key, f0, bundle.recipe.features.condition)
    frames = x.shape[1]
    x = pad_frames(x, getattr(bundle.generator(direction), "time_multiple", 1))
    tensor = torch.from_numpy(x).float().unsqueeze(0).to(bundle.device)
    y = bundle.generator(direction)(tensor)[0, :features.shape[1], :frames].float().cpu().numpy()
    return denormalise(y.astype(np.float64), stats[target], key)


def statistics_only(bundle: ModelBundle) -> ModelBundle:
    """``bundle`` with the identity in place of both generators.

    Converting with it keeps everything that does not need the learned mapping (source statistics out,
    target statistics in, the log-Gaussian F0 transform, the vocoder), so its results are the baseline
    that shows what the generator adds on top of matching per-speaker statistics.
    """
    return dataclasses.replace(bundle, g_ab=nn.Identity(), g_ba=nn.Identity())


#: the range ``convert --strength`` accepts (above 1 exaggerates the learned edit)
STRENGTH_RANGE = (0.0, 2.0)


class ScaledEdit(nn.Module):
    """A generator whose change to its input is scaled: ``x + strength * (generator(x) - x)``.

    GAN generators edit more than the evidence supports: part of each edit is the adversarial game's
    noise, which a distance to the target speaker (MCD) counts against it.  Shrinking the edit keeps its
    direction and trims that noise; 0 gives the statistics-only conversion, 1 the generator's own."""

    def __init__(self, generator: nn.Module, strength: float) -> None:
        super().__init__()
        self.generator, self.strength = generator, strength
        self.time_multiple = getattr(generator, "time_multiple", 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.strength * (self.generator(x) - x)


def with_strength(bundle: ModelBundle, strength: float) -> ModelBundle:
    """``bundle`` converting with :class:`ScaledEdit` generators of ``strength``."""
    low, high = STRENGTH_RANGE
    if not low <= strength <= high:
        raise CycleAudioError(f"--strength must be between {low:g} (statistics only) and {high:g}, got {strength:g}")
    return dataclasses.replace(bundle, g_ab=ScaledEdit(bundle.g_ab, strength), g_ba=ScaledEdit(bundle.g_ba, strength))


def convert_envelope(bundle: ModelBundle, direction: str, envelope: np.ndarray, f0: np.ndarray) -> np.ndarray:
    """(T, D) source coded envelope and its (T,) F0 -> (T, D) converted envelope."""
    return convert_features(bundle, direction, envelope, "envelope", f0)


def convert_frames(bundle: ModelBundle, direction: str, frames: WorldFrames) -> WorldFrames:
    source, target = bundle.domains(direction)
    stats = bundle.statistics
    f0 = convert_f0(frames.f0, (stats[source]["log_f0_mean"], stats[source]["log_f0_std"]),
                    (stats[target]["log_f0_mean"], stats[target]["log_f0_std"]))
    return WorldFrames(f0, convert_envelope(bundle, direction, frames.envelope, frames.f0), frames.aperiodicity)


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


def world_pipeline(bundle: ModelBundle, direction: str, f0_method: str | None = None) -> Pipeline:
    settings = world_settings(bundle.recipe, f0_method)
    return Pipeline(partial(_analyse_piece, settings=settings), partial(convert_frames, bundle, direction),
                    partial(synthesize, s=settings), settings.sample_rate)


def _done(value: Any) -> Future:
    future: Future = Future()
    future.set_result(value)
    return future


class _FolderRun:
    """The state of one conversion job: pieces in flight, one open writer per file being joined."""

    def __init__(self, pipeline: Pipeline, pool: Any, window: int, report: JobReport, bar: tqdm,
                 gate: DomainGate) -> None:
        self.pipeline, self.pool, self.window, self.report, self.bar = pipeline, pool, window, report, bar
        self.gate = gate
        self.analyses: deque[tuple[FileJob, Piece, Future]] = deque()
        self.renders: deque[tuple[FileJob, Piece, Future]] = deque()
        self.writers: dict[Path, JoinedWriter] = {}
        self.dead: set[Path] = set()
        self.audio_seconds = 0.0

    def run(self, pieces: Iterator[tuple[FileJob, Piece]]) -> None:
        self._fill(pieces)
        while self.analyses:
            job, piece, future = self.analyses.popleft()
            self._fill(pieces)  # keep the workers busy while the generator runs here
            if job.source in self.dead:
                continue
            try:
                analysed, seconds = future.result()
            except InputFileError as exc:
                self._fail(job, exc.reason)
                continue
            if piece.index == 0 and not self.gate.admit(job.source, analysed):
                self._refuse(job)
                continue
            self.audio_seconds += seconds
            converted = self.pipeline.convert(analysed)
            render = self.pipeline.render
            self.renders.append((job, piece, self.pool.submit(render, converted) if render else _done(converted)))
            while self.renders and (self.renders[0][2].done() or len(self.renders) > self.window):
                self._join()
        while self.renders:
            self._join()

    def _fill(self, pieces: Iterator[tuple[FileJob, Piece]]) -> None:
        while len(self.analyses) < self.window:
            item = next(pieces, None)
            if item is None:
                return
            job, piece = item
            self.analyses.append((job, piece, self.pool.submit(self.pipeline.analyse, piece)))

    def _join(self) -> None:
        job, piece, future = self.renders.popleft()
        if job.source in self.dead:
            return
        wave = future.result()
        try:
            if job.source not in self.writers:
                self.writers[job.source] = JoinedWriter(job.target, self.pipeline.sample_rate)
            writer = self.writers[job.source]
            writer.add(piece, wave)
            if piece.last:
                self.report.written.append(self.writers.pop(job.source).close())
                self.bar.update()
        except (OSError, sf.SoundFileError) as exc:
            self._fail(job, f"cannot write {job.target} ({getattr(exc, 'strerror', None) or exc})")

    def _fail(self, job: FileJob, reason: str) -> None:
        self.report.failed.append((job.source, reason))
        self._refuse(job)

    def _refuse(self, job: FileJob) -> None:
        """Drop a file's remaining pieces and anything of it already written (its failure is reported)."""
        self.dead.add(job.source)
        writer = self.writers.pop(job.source, None)
        if writer is not None:
            writer.discard()
        self.bar.update()


def _pieces(jobs: list[FileJob], sample_rate: int, max_seconds: float,
            report: JobReport, bar: tqdm) -> Iterator[tuple[FileJob, Piece]]:
    """Every piece of every file, planned lazily (a long file is scanned only when its turn comes)."""
    for job in jobs:
        try:
            pieces = plan_file(job.source, sample_rate, max_seconds)
        except InputFileError as exc:
            report.failed.append((job.source, exc.reason))
            bar.update()
            continue
        for piece in pieces:
            yield job, piece


def convert_voice_files(bundle: ModelBundle, direction: str, source: Path, target: Path,
                        options: Any, pipeline: Pipeline | None = None, *, checker: Checker | None) -> JobReport:
    """Convert a file or folder; ``pipeline`` defaults to the WORLD one (``options.f0_method``).
    ``checker`` measures the first piece of every input against the source domain; long inputs are
    converted in pieces of at most ``options.piece_seconds``."""
    pipeline = pipeline or world_pipeline(bundle, direction, options.f0_method)
    max_seconds = float(options.piece_seconds or MAX_SECONDS)
    jobs, refused = plan_jobs(source, target, AUDIO_SUFFIXES, ".wav", overwrite=options.overwrite)
    report = JobReport(failed=list(refused))
    gate = DomainGate(report, checker, options.strict)
    pieces_expected = sum(max(1, math.ceil(2 * audio_seconds(job.source) / max_seconds)) for job in jobs)
    workers = min(worker_count(options.workers), max(pieces_expected, 1))
    pool = ProcessPoolExecutor(workers, mp_context=get_context("fork")) if workers > 1 else _InlineExecutor()
    started = time.perf_counter()
    bar = tqdm(total=len(jobs), desc=f"convert {direction}", unit="file", disable=not options.progress)
    run = _FolderRun(pipeline, pool, 2 * workers, report, bar, gate)
    try:
        with pool:
            run.run(_pieces(jobs, pipeline.sample_rate, max_seconds, report, bar))
    finally:  # interrupted: no half-written file is left behind
        for writer in run.writers.values():
            writer.discard()
    bar.close()
    elapsed = time.perf_counter() - started
    report.metrics.update({"audio_seconds": run.audio_seconds, "wall_seconds": elapsed,
                           "real_time_factor": elapsed / max(run.audio_seconds, 1e-9),
                           "times_real_time": run.audio_seconds / max(elapsed, 1e-9), "workers": workers})
    return report
