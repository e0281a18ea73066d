"""The voice task: non-parallel voice conversion with WORLD or log-mel features.

Domains are two folders of speech files (or the built-in synthetic speakers, ``builtin:male`` and
``builtin:female``).  Training uses random crops of per-speaker-normalised features.  With
``features.kind: world`` (CycleGAN-VC / VC2) conversion maps coded spectral envelopes with the generator
and F0 with the log-Gaussian transform, and resynthesises with WORLD; with ``kind: mel``
(MaskCycleGAN-VC, CycleGAN-VC3) it maps log-mel spectrograms and a vocoder makes the waveform.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch

from ... import plots
from ...engine.bundle import ModelBundle
from ...engine.data import RandomCrops
from ...engine.device import pick_device
from ...engine.trainer import TrainingData
from ...errors import CycleAudioError, InputFileError, RecipeError
from ...jobs import JobReport
from ...page import Page
from ..base import ConvertOptions, CycleGANTask, EvaluateOptions, OnnxInputs, ReportInputs, cyclegan_recipe_class
from . import nets  # noqa: F401  (registers the voice networks)
from .audio import AUDIO_SUFFIXES, read_audio, write_audio
from .convert import convert_frames, convert_voice_files, statistics_only, with_strength, world_settings
from .domain_check import check_frames, mel_checker
from .features import (
    CONDITION_ROWS,
    Utterance,
    audio_files,
    default_cache_dir,
    domain_statistics,
    extract_features,
    generator_input,
    normalise,
)
from .inference import VoiceConverter
from .mel import MelSettings, extract_mels, mel_settings, mel_statistics
from .mel_convert import MEL_KEY, MelConverter, check_world_vocoder, mel_pipeline, recipe_vocoder, vocoder_spec
from .metrics import evaluate_voice, format_voice_evaluation
from .report import voice_figure, voice_report
from .strength import StrengthChoice, check_choosable, choose_strength
from .synthetic import DATASET_VERSION, SPEAKERS, write_builtin_voices
from .validation import (
    VoiceValidation,
    check_validation_recipe,
    analyse_wave,
    pick,
    read_references,
    read_utterance,
    split_off,
)
from .world import WorldSettings, synthesize

BUILTIN_PREFIX = "builtin:"


@dataclass
class VoiceData:
    """Where the two speakers' recordings are, and the held-out ones validated on during training
    (used when ``train.valid_every`` > 0, see :mod:`.validation`): ``valid_a``/``valid_b`` folders
    (``builtin:<speaker>``: its parallel validation sentences), else ``valid_files`` per domain held out of
    the training folders; ``valid_files`` also caps how many of the ``valid_*`` folders' files are used
    (0 = all); ``valid_reference`` holds the B speaker saying what the A validation files say."""

    domain_a: str = "builtin:male"
    domain_b: str = "builtin:female"
    cache_dir: str = ""
    workers: int = 0
    sample_files: int = 2
    valid_a: str = ""
    valid_b: str = ""
    valid_files: int = 0
    valid_reference: str = ""

    def validate(self) -> None:
        for key in ("domain_a", "domain_b", "valid_a", "valid_b", "valid_reference"):
            value = getattr(self, key)
            if value.startswith(BUILTIN_PREFIX) and value[len(BUILTIN_PREFIX):] not in SPEAKERS:
                raise ValueError(f"data.{key}: built-in speakers are {', '.join(BUILTIN_PREFIX + s for s in SPEAKERS)}")
        if bool(self.valid_a) != bool(self.valid_b):
            raise ValueError("data.valid_a and data.valid_b go together (or leave both empty and set data.valid_files)")
        if self.valid_files < 0:
            raise ValueError(f"data.valid_files must be >= 0, got {self.valid_files}")


@dataclass
class VoiceFeatures(WorldSettings, MelSettings):
    """Feature kind, its analysis settings (the WORLD or log-mel ones it extends), the vocoder and the
    training crop length."""

    sample_rate: int = 16000
    kind: Literal["world", "mel"] = "world"
    vocoder: str = ""
    griffin_lim_iters: int = 32
    crop_frames: int = 128
    condition: Literal["none", "voicing", "voicing_f0"] = "none"

    @property
    def dim(self) -> int:
        """Feature dimension the generator converts."""
        return self.n_mels if self.kind == "mel" else self.envelope_dim

    @property
    def condition_rows(self) -> int:
        """Per-frame condition rows the generators see below the features (see :func:`.features.condition_rows`)."""
        return CONDITION_ROWS[self.condition]

    def validate(self) -> None:
        WorldSettings.validate(self)
        if self.kind == "mel":
            MelSettings.validate(self)
            if self.vocoder == "world":
                raise ValueError("vocoder: world resynthesis needs kind: world; use griffin-lim or a vocoder checkpoint")
        elif self.vocoder not in ("", "world"):
            raise ValueError("vocoder: WORLD features resynthesise with WORLD; vocoders apply to kind: mel")
        if self.crop_frames % 4 or self.crop_frames < 4:
            raise ValueError("crop_frames must be a positive multiple of 4")
        if self.kind == "mel" and self.condition != "none":
            raise ValueError("condition: voicing and F0 conditions need kind: world")


@dataclass
class VoiceConvertOptions(ConvertOptions):
    """``workers``: analysis/synthesis processes (default: all cores); ``vocoder``: mel models only,
    a vocoder checkpoint or griffin-lim; ``statistics_only``: the identity in place of the generator
    (the statistics-only baseline, see :func:`.convert.statistics_only`); ``strength``: how much of the
    generator's edit to apply (0 statistics only, None or 1 the full conversion, see
    :class:`.convert.ScaledEdit`); ``f0_method``: WORLD models only, overrides the recipe's F0
    analysis; ``piece_seconds``: the longest piece of a long recording converted in one pass (default
    :data:`.chunks.MAX_SECONDS`)."""

    workers: int | None = None
    vocoder: str | None = None
    statistics_only: bool = False
    strength: float | None = None
    f0_method: str | None = None
    piece_seconds: float | None = None


@dataclass
class VoiceEvaluateOptions(EvaluateOptions):
    """``baseline``: statistics-only conversions of the same inputs, scored as their own row;
    ``workers``: analysis processes (default: all cores)."""

    baseline: str | None = None
    workers: int | None = None


def cache_dir(recipe: Any) -> Path:
    return Path(recipe.data.cache_dir).expanduser() if recipe.data.cache_dir else default_cache_dir()


def domain_folder(spec: str, recipe: Any, split: str = "train") -> Path:
    """A data spec as a folder: ``builtin:<speaker>`` is generated (once) into the cache."""
    if spec.startswith(BUILTIN_PREFIX):
        root = write_builtin_voices(cache_dir(recipe) / DATASET_VERSION)
        return root / split / spec[len(BUILTIN_PREFIX):]
    return Path(spec).expanduser()


def check_condition_rows(recipe: Any) -> None:
    """The networks must expect the condition rows ``features.condition`` adds to their input."""
    rows = recipe.features.condition_rows
    for part in ("generator", "discriminator"):
        declared = getattr(recipe.model, part).args.get("condition_rows", 0)
        if declared != rows:
            raise RecipeError(f"model.{part}.args.condition_rows ({declared}) must be {rows} for features.condition "
                              f"'{recipe.features.condition}'")


def warn(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr)


class VoiceTask(CycleGANTask):
    name = "voice"
    recipe_class = cyclegan_recipe_class("VoiceRecipe", VoiceData, VoiceFeatures, check_validation_recipe)
    suffixes = AUDIO_SUFFIXES
    convert_options = VoiceConvertOptions
    evaluate_options = VoiceEvaluateOptions

    def __init__(self) -> None:
        self._sample_frames: dict[tuple[str, str], list[tuple[str, np.ndarray, Any]]] = {}
        self._vocoders: dict[str, Any] = {}

    # ------------------------------------------------------------------ training data
    def _training_items(self, recipe: Any, files: list[Path], key: str
                        ) -> tuple[list[np.ndarray], dict[str, Any], list[tuple[Path, str]]]:
        """The (D + condition rows, T) generator input of every usable file (normalised with the domain
        statistics, see :func:`.features.generator_input`), the statistics, the (file, reason) failures."""
        feat = recipe.features
        label = f"features {key.upper()}"
        if feat.kind == "mel":
            settings = mel_settings(feat)
            min_seconds = feat.crop_frames * settings.hop_length / settings.sample_rate
            mels, failures = extract_mels(files, settings, cache_dir(recipe), recipe.data.workers, min_seconds,
                                          pick_device(recipe.train.device), label=label)
            mels = [mel for _, mel in mels if mel.shape[0] >= feat.crop_frames]
            stats = mel_statistics(mels) if mels else {}
            return [normalise(mel, stats, MEL_KEY) for mel in mels], stats, failures
        min_seconds = feat.crop_frames * feat.frame_period / 1000.0
        utterances, failures = extract_features(files, world_settings(recipe), cache_dir(recipe),
                                                recipe.data.workers, min_seconds, label=label)
        utterances = [u for u in utterances if u.envelope.shape[0] >= feat.crop_frames]
        stats = domain_statistics(utterances) if utterances else {}
        items = [generator_input(u.envelope, stats, "envelope", u.f0, feat.condition) for u in utterances]
        return items, stats, failures

    def domain_files(self, recipe: Any, key: str) -> tuple[list[Path], list[Path]]:
        """(training files, validation files) of domain ``key``; validation files never train (also when
        ``valid_<key>`` overlaps the training folder), and none are held out unless the recipe validates."""
        data = recipe.data
        root = domain_folder(getattr(data, f"domain_{key}"), recipe)
        files = audio_files(root)
        if recipe.train.valid_every <= 0:
            return files, []
        valid_spec = getattr(data, f"valid_{key}")
        if not valid_spec:
            return split_off(files, root, data.valid_files)
        valid_root = domain_folder(valid_spec, recipe, "valid")
        valid = pick(audio_files(valid_root), valid_root, data.valid_files)
        if not valid:
            raise CycleAudioError(f"{valid_root}: no audio files to validate on (data.valid_{key})")
        held = {v.resolve() for v in valid}
        return [f for f in files if f.resolve() not in held], valid

    def prepare(self, recipe: Any, exp_dir: Path) -> TrainingData:
        feat = recipe.features
        dim = recipe.model.generator.args.get("feature_dim", feat.dim)
        if dim != feat.dim:
            what = "n_mels" if feat.kind == "mel" else "envelope_dim"
            raise RecipeError(f"model.generator.args.feature_dim ({dim}) must equal features.{what} ({feat.dim})")
        check_condition_rows(recipe)
        sources, statistics = {}, {}
        for key, spec in (("a", recipe.data.domain_a), ("b", recipe.data.domain_b)):
            files = self.domain_files(recipe, key)[0]
            features, stats, failures = self._training_items(recipe, files, key)
            for path, reason in failures:
                warn(f"skipping {path}: {reason}")
            if not features:
                raise CycleAudioError(f"domain {key.upper()} ({spec}): no usable training files")
            statistics[key] = stats
            sources[key] = RandomCrops([torch.from_numpy(f).float() for f in features], feat.crop_frames)
        statistics["features"] = {"kind": feat.kind, "sample_rate": feat.sample_rate}
        return TrainingData(sources["a"], sources["b"], statistics)

    def validator(self, recipe: Any) -> VoiceValidation:
        valid = {key: self.domain_files(recipe, key)[1] for key in ("a", "b")}
        try:
            utterances = {key: [read_utterance(p, recipe) for p in files] for key, files in valid.items()}
        except InputFileError as exc:
            raise CycleAudioError(f"{exc.path}: unusable validation file ({exc.reason})") from None
        references, rate = {}, recipe.features.sample_rate
        if recipe.data.valid_reference:
            folder = domain_folder(recipe.data.valid_reference, recipe, "valid")
            references, rate = read_references(folder, [u.name for u in utterances["a"]])
        return VoiceValidation(recipe, utterances["a"], utterances["b"], references, rate,
                               lambda bundle, direction: self._sample_converter(recipe, bundle, direction))

    def choose_strength(self, bundle: ModelBundle, strengths: tuple[float, ...]) -> StrengthChoice:
        """Validation MCD of ``bundle`` at each edit strength, on the files its training validated on
        (see :mod:`.strength`)."""
        check_choosable(bundle)
        return choose_strength(bundle, strengths, self.validator(bundle.recipe))

    # ------------------------------------------------------------------ samples during training
    def _samples(self, recipe: Any, domain: str) -> list[tuple[str, np.ndarray, Any]]:
        """(name, waveform, analysed input) of the sample files: WORLD frames, or the waveform for mel models."""
        spec = recipe.data.domain_a if domain == "a" else recipe.data.domain_b
        key = (spec, repr(recipe.features))
        if key not in self._sample_frames:
            split = "eval" if spec.startswith(BUILTIN_PREFIX) else "train"
            files = audio_files(domain_folder(spec, recipe, split))[: recipe.data.sample_files]
            waves = [(p.stem, read_audio(p, recipe.features.sample_rate)) for p in files]
            self._sample_frames[key] = [(name, wave, analyse_wave(wave, recipe)) for name, wave in waves]
        return self._sample_frames[key]

    def _sample_converter(self, recipe: Any, bundle: ModelBundle, direction: str) -> Any:
        """Analysed sample -> waveform for one direction (mel: the recipe's vocoder, loaded once)."""
        if recipe.features.kind == "mel":
            spec = vocoder_spec(recipe)
            if spec not in self._vocoders:
                self._vocoders[spec] = recipe_vocoder(recipe, spec, bundle.device)
            return MelConverter(bundle, direction, self._vocoders[spec])
        return lambda frames: synthesize(convert_frames(bundle, direction, frames), world_settings(recipe))

    def write_samples(self, recipe: Any, bundle: ModelBundle, step: int, exp_dir: Path, writer: Any) -> None:
        """Each sample's conversion as WAV and, in TensorBoard, as audio and as the log-mel spectrograms
        and F0 contours of source and conversion (the figure of the report)."""
        rate = recipe.features.sample_rate
        for direction, domain in (("a2b", "a"), ("b2a", "b")):
            convert = self._sample_converter(recipe, bundle, direction)
            for name, source, analysed in self._samples(recipe, domain):
                wave = convert(analysed)
                write_audio(exp_dir / "samples" / f"step_{step:07d}" / direction / f"{name}.wav", wave, rate)
                if writer is not None:
                    peak = max(float(np.max(np.abs(wave))), 1e-9)
                    writer.add_audio(f"samples/{direction}/{name}", torch.from_numpy(wave / peak).float().unsqueeze(0),
                                     step, sample_rate=rate)
                    figure = voice_figure({"source": source, "conversion": wave}, rate)
                    writer.add_image(f"spectrogram_f0/{direction}/{name}", plots.to_rgb(figure), step,
                                     dataformats="HWC")

    # ------------------------------------------------------------------ conversion and evaluation
    def convert(self, bundle: ModelBundle, direction: str, source: Path, target: Path,
                options: VoiceConvertOptions) -> JobReport:
        if options.statistics_only and options.strength is not None:
            raise CycleAudioError("--statistics-only is --strength 0: give one of them")
        if options.statistics_only:
            bundle = statistics_only(bundle)
        elif options.strength is not None:
            bundle = with_strength(bundle, options.strength)
        stats = bundle.statistics[bundle.domains(direction)[0]]
        if bundle.recipe.features.kind == "mel":
            if options.f0_method:
                raise CycleAudioError("--f0-method applies to WORLD models; this model converts log-mel features")
            pipeline = mel_pipeline(bundle, direction, options.vocoder)
            checker = mel_checker(mel_settings(bundle.recipe.features), stats, bundle.device)
            return convert_voice_files(bundle, direction, source, target, options, pipeline, checker=checker)
        check_world_vocoder(options.vocoder)
        return convert_voice_files(bundle, direction, source, target, options,
                                   checker=partial(check_frames, stats=stats))

    def converter(self, bundle: ModelBundle) -> VoiceConverter:
        return VoiceConverter(bundle)

    def onnx_inputs(self, recipe: Any) -> OnnxInputs:
        """(batch, feature_dim + condition rows, frames) normalised features; frames dynamic (a multiple
        of 4 for WORLD generators, which :func:`.convert.convert_features` pads to)."""
        dim = recipe.features.dim + recipe.features.condition_rows
        return OnnxInputs(torch.randn(1, dim, 64), torch.randn(2, dim, 40), {0: "batch", 2: "frames"})

    def evaluate(self, converted: Path, reference: Path, source: Path | None,
                 options: VoiceEvaluateOptions) -> dict[str, Any]:
        baseline = Path(options.baseline) if options.baseline else None
        return evaluate_voice(converted, reference, source, baseline, options.workers, options.progress)

    def format_evaluation(self, result: dict[str, Any]) -> str:
        return format_voice_evaluation(result)

    def write_builtin_data(self, out: Path) -> Path:
        return write_builtin_voices(out)

    def report(self, page: Page, inputs: ReportInputs) -> None:
        voice_report(page, inputs)


TASK = VoiceTask()

__all__ = ["TASK", "VoiceTask", "VoiceData", "VoiceFeatures", "Utterance"]
