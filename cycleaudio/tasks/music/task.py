"""The music task: MIDI folders -> beat-grid phrases -> CycleGAN -> whole transferred songs as MIDI."""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from ...engine.data import UnionSource
from ...errors import CycleAudioError, InputFileError
from ...jobs import JobReport, plan_jobs
from ..base import Task, TrainingData, cyclegan_recipe_class, generator_input_device
from .corpus import SUFFIXES, PhraseSource
from .domains import cache_folder, domain_files, domain_statistics, load_domain
from .evaluation import evaluate_music, format_music
from .roll import phrase_grid_times, roll_to_midi
from .settings import MusicData, MusicFeatures, TransferFeatures
from .synthetic import write_builtin
from .transfer import Binarisation, convert_file, transfer_phrases, write_midi

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


def _binarisation(features: Any, options: dict[str, Any]) -> Binarisation:
    """The conversion options ``binarize``/``threshold`` where given, else the recipe's."""
    return Binarisation(options.get("binarize", features.binarize), float(options.get("threshold", features.threshold)))


class MusicTask(Task):
    name = "music"
    recipe_class = cyclegan_recipe_class("MusicRecipe", MusicData, TransferFeatures)
    suffixes = SUFFIXES

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
        """A few training phrases of each domain and their transfers, as MIDI and TensorBoard images."""
        if not self._examples:
            return
        settings, folder = recipe.features.roll_settings(), exp_dir / "samples" / f"step_{step:07d}"
        for direction, domain in (("a2b", "a"), ("b2a", "b")):
            phrases = self._examples[domain].numpy()
            out = transfer_phrases(bundle.generator(direction), phrases, _binarisation(recipe.features, {}),
                                   generator_input_device(bundle))
            times = phrase_grid_times(phrases.shape[2], settings.steps_per_beat)
            for k in range(len(phrases)):
                write_midi(roll_to_midi(out[k], times, settings), folder / f"{direction}_{k}.mid")
            pair = np.concatenate([phrases[:, 0], out[:, 0]], axis=1)  # source | transfer along time
            image = torch.from_numpy(pair[:, :, ::-1].transpose(0, 2, 1).copy()).float().unsqueeze(1)
            writer.add_images(f"samples/{direction}", image, step)

    # ------------------------------------------------------------------ conversion
    def convert(self, bundle: Any, direction: str, source: Path, target: Path, options: dict[str, Any]) -> JobReport:
        features = bundle.recipe.features
        binarisation = _binarisation(features, options)
        program = int(options.get("instrument", 0))
        if not 0 <= program <= 127:
            raise CycleAudioError(f"--instrument must be a General MIDI program 0-127, got {program}")
        jobs, refused = plan_jobs(source, target, SUFFIXES, ".mid", bool(options.get("overwrite", False)))
        report = JobReport(failed=list(refused))
        generator = bundle.generator(direction)
        device = generator_input_device(bundle)
        empty, started = 0, time.perf_counter()
        for job in jobs:
            try:
                sounding = convert_file(generator, job.source, job.target, features.roll_settings(),
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

    # ------------------------------------------------------------------ evaluation
    def evaluate(self, converted: Path, reference: Path, source: Path | None,
                 options: dict[str, Any]) -> dict[str, Any]:
        from ...engine.classifier import DomainClassifier

        classifier = DomainClassifier.load(options["classifier"]) if options.get("classifier") else None
        stored = classifier.recipe.get("features", {}) if classifier is not None else {}
        features = MusicFeatures(**{k: v for k, v in stored.items() if k in MusicFeatures.__dataclass_fields__})
        settings = features.roll_settings()
        settings.velocity = False  # measures and the classifier use the on/off channel only
        return evaluate_music(converted, reference, source, options, classifier, settings, features.phrase_steps,
                              features.steps_per_beat)

    def format_evaluation(self, result: dict[str, Any]) -> str:
        return format_music(result)


TASK = MusicTask()
