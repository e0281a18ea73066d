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
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch

from ...bundle import ModelBundle, pick_device
from ...engine.data import RandomCrops
from ...errors import CycleAudioError, RecipeError
from ...jobs import JobReport
from ..base import Task, TrainingData, cyclegan_recipe_class
from .audio import AUDIO_SUFFIXES, read_audio, write_audio
from .convert import convert_frames, convert_voice_files, world_settings
from .features import Utterance, audio_files, default_cache_dir, domain_statistics, extract_features, normalise
from .mel import check_mel_section, extract_mels, mel_settings, mel_statistics
from .mel_convert import MEL_KEY, MelConverter, check_world_vocoder, mel_pipeline, recipe_vocoder, vocoder_spec
from .metrics import evaluate_voice, format_voice_evaluation
from .synthetic import DATASET_VERSION, SPEAKERS, write_builtin_voices
from .world import analyze, synthesize

BUILTIN_PREFIX = "builtin:"


@dataclass
class VoiceData:
    """Where the two speakers' recordings are."""

    domain_a: str = "builtin:male"
    domain_b: str = "builtin:female"
    cache_dir: str = ""
    workers: int = 0
    sample_files: int = 2

    def validate(self) -> None:
        for key in ("domain_a", "domain_b"):
            value = getattr(self, key)
            if value.startswith(BUILTIN_PREFIX) and value[len(BUILTIN_PREFIX):] not in SPEAKERS:
                raise ValueError(f"data.{key}: built-in speakers are {', '.join(BUILTIN_PREFIX + s for s in SPEAKERS)}")


@dataclass
class VoiceFeatures:
    """Feature kind, its analysis settings (WORLD or log-mel), the vocoder and the training crop length."""

    kind: Literal["world", "mel"] = "world"
    sample_rate: int = 16000
    frame_period: float = 5.0
    envelope_dim: int = 36
    f0_method: Literal["harvest", "dio", "fast"] = "harvest"
    f0_floor: float = 71.0
    f0_ceil: float = 800.0
    n_fft: int = 1024
    hop_length: int = 256
    n_mels: int = 80
    fmin: float = 0.0
    fmax: float | None = None
    vocoder: str = ""
    griffin_lim_iters: int = 32
    crop_frames: int = 128

    @property
    def dim(self) -> int:
        """Feature dimension the generator converts."""
        return self.n_mels if self.kind == "mel" else self.envelope_dim

    def validate(self) -> None:
        if self.kind == "mel":
            check_mel_section(self)
            if self.vocoder == "world":
                raise ValueError("features.vocoder: world resynthesis needs kind: world; use griffin-lim or a vocoder checkpoint")
        elif self.vocoder not in ("", "world"):
            raise ValueError("features.vocoder: WORLD features resynthesise with WORLD; vocoders apply to kind: mel")
        if self.sample_rate < 8000:
            raise ValueError("features.sample_rate must be at least 8000")
        if not 0 < self.f0_floor < self.f0_ceil:
            raise ValueError("features.f0_floor must be positive and below f0_ceil")
        if self.crop_frames % 4:
            raise ValueError("features.crop_frames must be a multiple of 4")


def cache_dir(recipe: Any) -> Path:
    return Path(recipe.data.cache_dir).expanduser() if recipe.data.cache_dir else default_cache_dir()


def domain_folder(spec: str, recipe: Any, split: str = "train") -> Path:
    """A data spec as a folder: ``builtin:<speaker>`` is generated (once) into the cache."""
    if spec.startswith(BUILTIN_PREFIX):
        root = write_builtin_voices(cache_dir(recipe) / DATASET_VERSION)
        return root / split / spec[len(BUILTIN_PREFIX):]
    return Path(spec).expanduser()


def warn(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr)


class VoiceTask(Task):
    name = "voice"
    recipe_class = cyclegan_recipe_class("VoiceRecipe", VoiceData, VoiceFeatures)
    suffixes = AUDIO_SUFFIXES

    def __init__(self) -> None:
        self._sample_frames: dict[tuple[str, str], list[tuple[str, Any]]] = {}
        self._vocoders: dict[str, Any] = {}

    # ------------------------------------------------------------------ training data
    def _domain_features(self, recipe: Any, files: list[Path], key: str
                         ) -> tuple[list[np.ndarray], dict[str, Any], list[tuple[Path, str]]]:
        """(T, D) features of every usable file, the domain statistics, the (file, reason) failures."""
        feat = recipe.features
        label = f"features {key.upper()}"
        if feat.kind == "mel":
            settings = mel_settings(feat)
            min_seconds = feat.crop_frames * settings.hop_length / settings.sample_rate
            mels, failures = extract_mels(files, settings, cache_dir(recipe), recipe.data.workers, min_seconds,
                                          pick_device(recipe.train.device), label=label)
            mels = [mel for _, mel in mels if mel.shape[0] >= feat.crop_frames]
            return mels, (mel_statistics(mels) if mels else {}), failures
        min_seconds = feat.crop_frames * feat.frame_period / 1000.0
        utterances, failures = extract_features(files, world_settings(recipe), cache_dir(recipe),
                                                recipe.data.workers, min_seconds, label=label)
        utterances = [u for u in utterances if u.envelope.shape[0] >= feat.crop_frames]
        stats = domain_statistics(utterances) if utterances else {}
        return [u.envelope for u in utterances], stats, failures

    def prepare(self, recipe: Any, exp_dir: Path) -> TrainingData:
        feat = recipe.features
        dim = recipe.model.generator.args.get("feature_dim", feat.dim)
        if dim != feat.dim:
            what = "n_mels" if feat.kind == "mel" else "envelope_dim"
            raise RecipeError(f"model.generator.args.feature_dim ({dim}) must equal features.{what} ({feat.dim})")
        norm_key = MEL_KEY if feat.kind == "mel" else "envelope"
        sources, statistics = {}, {}
        for key, spec in (("a", recipe.data.domain_a), ("b", recipe.data.domain_b)):
            files = audio_files(domain_folder(spec, recipe))
            features, stats, failures = self._domain_features(recipe, files, key)
            for path, reason in failures:
                warn(f"skipping {path}: {reason}")
            if not features:
                raise CycleAudioError(f"domain {key.upper()} ({spec}): no usable training files")
            statistics[key] = stats
            items = [torch.from_numpy(normalise(f, stats, norm_key)).float() for f in features]
            sources[key] = RandomCrops(items, feat.crop_frames)
        statistics["features"] = {"kind": feat.kind, "sample_rate": feat.sample_rate}
        return TrainingData(sources["a"], sources["b"], statistics)

    # ------------------------------------------------------------------ samples during training
    def _samples(self, recipe: Any, domain: str) -> list[tuple[str, Any]]:
        """(name, analysed input) of the sample files: WORLD frames, or the waveform for mel models."""
        spec = recipe.data.domain_a if domain == "a" else recipe.data.domain_b
        key = (spec, repr(recipe.features))
        if key not in self._sample_frames:
            split = "eval" if spec.startswith(BUILTIN_PREFIX) else "train"
            files = audio_files(domain_folder(spec, recipe, split))[: recipe.data.sample_files]
            rate = recipe.features.sample_rate
            analyse = (lambda w: w) if recipe.features.kind == "mel" else (lambda w: analyze(w, world_settings(recipe)))
            self._sample_frames[key] = [(p.stem, analyse(read_audio(p, rate))) for p in files]
        return self._sample_frames[key]

    def _sample_converter(self, recipe: Any, bundle: ModelBundle, direction: str) -> Any:
        """Analysed sample -> waveform for one direction (mel: the recipe's vocoder, loaded once)."""
        if recipe.features.kind == "mel":
            spec = vocoder_spec(recipe, {})
            if spec not in self._vocoders:
                self._vocoders[spec] = recipe_vocoder(recipe, spec, bundle.device)
            return MelConverter(bundle, direction, self._vocoders[spec])
        return lambda frames: synthesize(convert_frames(bundle, direction, frames), world_settings(recipe))

    def write_samples(self, recipe: Any, bundle: ModelBundle, step: int, exp_dir: Path, writer: Any) -> None:
        rate = recipe.features.sample_rate
        for direction, domain in (("a2b", "a"), ("b2a", "b")):
            convert = self._sample_converter(recipe, bundle, direction)
            for name, analysed in self._samples(recipe, domain):
                wave = convert(analysed)
                write_audio(exp_dir / "samples" / f"step_{step:07d}" / direction / f"{name}.wav", wave, rate)
                if writer is not None:
                    peak = max(float(np.max(np.abs(wave))), 1e-9)
                    writer.add_audio(f"samples/{direction}/{name}", torch.from_numpy(wave / peak).float().unsqueeze(0),
                                     step, sample_rate=rate)

    # ------------------------------------------------------------------ conversion and evaluation
    def convert(self, bundle: ModelBundle, direction: str, source: Path, target: Path, options: dict[str, Any]) -> JobReport:
        if bundle.recipe.features.kind == "mel":
            if options.get("f0_method"):
                raise CycleAudioError("--f0-method applies to WORLD models; this model converts log-mel features")
            return convert_voice_files(bundle, direction, source, target, options, mel_pipeline(bundle, direction, options))
        check_world_vocoder(options)
        return convert_voice_files(bundle, direction, source, target, options)

    def evaluate(self, converted: Path, reference: Path, source: Path | None, options: dict[str, Any]) -> dict[str, Any]:
        return evaluate_voice(converted, reference, source)

    def format_evaluation(self, result: dict[str, Any]) -> str:
        return format_voice_evaluation(result)

    def write_builtin_data(self, out: Path) -> Path:
        return write_builtin_voices(out)


TASK = VoiceTask()

__all__ = ["TASK", "VoiceTask", "VoiceData", "VoiceFeatures", "Utterance"]
