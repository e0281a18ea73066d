"""The music task: MIDI folders -> beat-grid phrases -> CycleGAN -> whole transferred songs as MIDI."""

from __future__ import annotations

import logging
import sys
import time
from functools import partial
from pathlib import Path
from typing import Any

import torch
from ...progress import tqdm

from ... import plots
from ...engine.classifier import DomainClassifier
from ...engine.data import UnionSource
from ...engine.trainer import TrainingData
from ...errors import CycleAudioError, InputFileError
from ...jobs import JobReport, plan_jobs
from ...page import Page
from ..base import CycleGANTask, OnnxInputs, ReportInputs, cyclegan_recipe_class
from ..domain import DomainGate
from . import nets  # noqa: F401  (registers the music networks)
from .corpus import SUFFIXES, PhraseSource
from .domain_check import check_song
from .domains import cache_folder, domain_files, domain_statistics, load_domain
from .evaluation import evaluate_music, format_music
from .inference import MusicTransfer
from .report import music_report, roll_figure
from .roll import load_song, phrase_grid_times, roll_to_midi
from .settings import MusicConvertOptions, MusicData, MusicEvaluateOptions, MusicFeatures, TransferFeatures
from .synthetic import write_builtin
from .transfer import binarisation_of, convert_file, transfer_phrases, write_midi

LOG = logging.getLogger("cycleaudio.music")
SAMPLE_PHRASES = 2


def _check_channels(recipe: Any) -> None:
    """The networks must see as many channels as the features have (2 with velocity)."""
    want = 2 if recipe.features.velocity else 1
    for part in (recipe.model.generator, recipe.model.discriminator):
        got = int(part.args.get("in_channels", 1))
        if got != want:
            raise CycleAudioError(f"model {part.name} has in_channels {got} but features.velocity="
                                  f"{recipe.features.velocity} gives {want}; set model.*.args.in_channels: {want}")


class MusicTask(CycleGANTask):
    name = "music"
    recipe_class = cyclegan_recipe_class("MusicRecipe", MusicData, TransferFeatures)
    suffixes = SUFFIXES
    convert_options = MusicConvertOptions
    evaluate_options = MusicEvaluateOptions

    def __init__(self) -> None:
        self._examples: dict[str, torch.Tensor] = {}

    # ------------------------------------------------------------------ training data
    def prepare(self, recipe: Any, exp_dir: Path) -> TrainingData:
        _check_channels(recipe)
        data, features = recipe.data, recipe.features
        cache = cache_folder(data, exp_dir)
        entries = {"a": data.a, "b": data.b}
        if recipe.loss.mixed == "full":
            if data.c is None:
                raise CycleAudioError("loss.mixed: full needs data.c (a folder of a third genre)")
            entries["c"] = data.c
        domains = {key: load_domain(key, domain_files(entry, cache, data.builtin_songs), features, cache,
                                    data.workers, LOG.warning)
                   for key, entry in entries.items()}
        sources = {key: PhraseSource(domain.phrases) for key, domain in domains.items()}
        statistics = {key: {**domain_statistics(domain, features.lowest_pitch), "source": entries[key]}
                      for key, domain in domains.items()}
        for key, stats in statistics.items():
            tqdm.write(f"domain {key}: {stats['songs']} songs, {stats['phrases']} phrases, "
                       f"{stats['skipped']} files skipped", file=sys.stderr)
        mixed = UnionSource(list(sources.values())) if recipe.loss.mixed != "none" else None
        self._examples = {key: domains[key].phrases[:SAMPLE_PHRASES] for key in ("a", "b")}
        return TrainingData(sources["a"], sources["b"], statistics, mixed_a=mixed, mixed_b=mixed)

    def write_builtin_data(self, out: Path) -> Path:
        return write_builtin(out)

    # ------------------------------------------------------------------ samples during training
    def write_samples(self, recipe: Any, bundle: Any, step: int, exp_dir: Path, writer: Any) -> None:
        """A few training phrases of each domain and their transfers, as MIDI and as TensorBoard piano rolls
        (the figure of the report)."""
        if not self._examples:
            return
        settings, folder = recipe.features.roll_settings(), exp_dir / "samples" / f"step_{step:07d}"
        for direction, domain in (("a2b", "a"), ("b2a", "b")):
            phrases = self._examples[domain].numpy()
            out = transfer_phrases(bundle.generator(direction), phrases, binarisation_of(recipe.features),
                                   bundle.input_device)
            times = phrase_grid_times(phrases.shape[2], settings.steps_per_beat)
            for k in range(len(phrases)):
                write_midi(roll_to_midi(out[k], times, settings), folder / f"{direction}_{k}.mid")
                if writer is not None:
                    figure = roll_figure({"source": phrases[k, 0], "transfer": out[k, 0]}, settings)
                    writer.add_image(f"piano_roll/{direction}/{k}", plots.to_rgb(figure), step, dataformats="HWC")

    # ------------------------------------------------------------------ conversion
    def convert(self, bundle: Any, direction: str, source: Path, target: Path,
                options: MusicConvertOptions) -> JobReport:
        features = bundle.recipe.features
        binarisation = binarisation_of(features, options.binarize, options.threshold)
        jobs, refused = plan_jobs(source, target, SUFFIXES, ".mid", options.overwrite)
        report = JobReport(failed=list(refused))
        generator = bundle.generator(direction)
        device = bundle.input_device
        stats = bundle.statistics.get(bundle.domains(direction)[0], {})
        checker = partial(check_song, stats=stats, phrase_steps=features.phrase_steps,
                          lowest_pitch=features.lowest_pitch)
        gate = DomainGate(report, checker if "density" in stats else None, options.strict,
                          "the model carries no statistics of the source genre")
        empty, started = 0, time.perf_counter()
        for job in jobs:
            try:
                parsed = load_song(job.source, features.roll_settings())
                if not gate.admit(job.source, parsed[1]):
                    continue
                sounding = convert_file(generator, job.source, parsed, job.target, features.roll_settings(),
                                        features.phrase_steps, device, binarisation, options)
            except InputFileError as exc:
                report.failed.append((job.source, exc.reason))
                continue
            report.written.append(job.target)
            if not sounding:
                empty += 1
                LOG.warning("%s: the transfer has no notes at threshold %g (an empty MIDI was written); "
                            "try a lower --threshold or --binarize density", job.source, binarisation.threshold)
        report.metrics = {"files": float(len(report.written)), "empty_outputs": float(empty),
                          "seconds": time.perf_counter() - started}
        return report

    def converter(self, bundle: Any) -> MusicTransfer:
        return MusicTransfer(bundle)

    def onnx_inputs(self, recipe: Any) -> OnnxInputs:
        """(batch, channels, steps, pitches) phrases in [0, 1]; steps dynamic (a multiple of 4, the
        generator's two stride-2 stages), pitches fixed by the recipe."""
        features = recipe.features
        channels = 2 if features.velocity else 1
        example = torch.rand(1, channels, features.phrase_steps, features.pitches)
        check = torch.rand(2, channels, features.phrase_steps // 2 + 4, features.pitches)
        return OnnxInputs(example, check, {0: "batch", 2: "steps"})

    # ------------------------------------------------------------------ evaluation
    def evaluate(self, converted: Path, reference: Path, source: Path | None,
                 options: MusicEvaluateOptions) -> dict[str, Any]:
        classifier = DomainClassifier.load(options.classifier) if options.classifier else None
        stored = classifier.recipe.get("features", {}) if classifier is not None else {}
        features = MusicFeatures(**{k: v for k, v in stored.items() if k in MusicFeatures.__dataclass_fields__})
        settings = features.roll_settings()
        settings.velocity = False  # measures and the classifier use the on/off channel only
        return evaluate_music(converted, reference, source, options, classifier, settings, features.phrase_steps,
                              features.steps_per_beat)

    def format_evaluation(self, result: dict[str, Any]) -> str:
        return format_music(result)

    def report(self, page: Page, inputs: ReportInputs) -> None:
        music_report(page, inputs)


TASK = MusicTask()
