"""Validation of a voice model during training: a few held-out utterances per speaker, scored every
``train.valid_every`` steps.

Training losses are measured on random crops the model has seen; these scores are on whole utterances it
has not, so they show when the mapping stops generalising and let ``checkpoints/best.pt`` keep the
best model instead of the last one:

* ``cycle`` and ``identity``: the training definitions (L1, both directions summed) on whole utterances
  normalised with the training statistics, so they read on the same scale as ``train/cycle``;
* with parallel references (``data.valid_reference``: the B speaker saying what the A validation files
  say, same file names), ``mcd`` [dB] and ``log_f0_mean_error`` [cent] of the resynthesised A->B
  conversions, scored exactly as ``cycleaudio evaluate`` scores files (:mod:`.metrics`), so the
  validation curve and the final evaluation table use one definition.

Validation files come from ``data.valid_a``/``data.valid_b`` or, when those are empty, are held out of
the training folders; either way ``data.valid_files`` of them per domain are picked by a hash of their
relative path, so the pick depends neither on listing order nor on where the folder lies.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import librosa
import numpy as np
import torch
from torch.nn import functional as F

from ...engine.bundle import ModelBundle
from ...errors import CycleAudioError, InputFileError
from .audio import read_audio, resample
from .convert import pad_frames, world_settings
from .features import audio_files, generator_input
from .mel import MelAnalyzer, mel_settings
from .mel_convert import MEL_KEY
from .metrics import file_features, metric_settings, score_features, wave_features
from .world import analyze

#: scores every voice validation has, and those that need ``data.valid_reference``
LOSS_CRITERIA = ("cycle", "identity")
REFERENCE_CRITERIA = ("mcd", "log_f0_mean_error")

#: analysed input -> converted waveform, for one direction of the current generators
WaveConverter = Callable[[Any], np.ndarray]


def check_validation_recipe(recipe: Any) -> None:
    """Recipe-time checks of the voice validation settings (ValueError with the user's message)."""
    data, train = recipe.data, recipe.train
    criteria = LOSS_CRITERIA + REFERENCE_CRITERIA if data.valid_reference else LOSS_CRITERIA
    if train.valid_criterion not in criteria:
        hint = "" if data.valid_reference else f" ({' and '.join(REFERENCE_CRITERIA)} need data.valid_reference)"
        raise ValueError(f"train.valid_criterion must be one of {', '.join(criteria)}{hint}, "
                         f"got {train.valid_criterion!r}")
    if train.valid_every > 0 and not (data.valid_a or data.valid_files):
        raise ValueError("train.valid_every needs validation files: data.valid_a and data.valid_b, "
                         "or data.valid_files > 0 to hold some out of the training folders")


def hash_order(files: list[Path], root: Path) -> list[Path]:
    """``files`` ordered by a hash of their path below ``root``: a stable pick, independent of listing order."""
    return sorted(files, key=lambda path: hashlib.sha256(path.relative_to(root).as_posix().encode()).hexdigest())


def split_off(files: list[Path], root: Path, count: int) -> tuple[list[Path], list[Path]]:
    """(kept, held out): ``count`` files of a training folder held out for validation; at least one file
    must stay for training."""
    if count >= len(files):
        raise CycleAudioError(f"{root}: data.valid_files ({count}) must be fewer than its {len(files)} files, "
                              f"or give data.valid_a and data.valid_b")
    held = set(hash_order(files, root)[:count])
    return [f for f in files if f not in held], [f for f in files if f in held]


def pick(files: list[Path], root: Path, count: int) -> list[Path]:
    """``count`` files (0 = all) of a validation folder, by the same stable hash order."""
    return hash_order(files, root)[:count] if count else files


@dataclass
class ValidationUtterance:
    """One held-out file: ``analysed`` is what conversion takes (WORLD frames, or the waveform for mel
    models), ``features`` the (T, D) un-normalised generator features."""

    name: str
    analysed: Any
    features: np.ndarray


def analyse_wave(wave: np.ndarray, recipe: Any) -> Any:
    """A waveform analysed as conversion during training takes it: WORLD frames, or the waveform itself
    for mel models (their analysis runs inside the converter)."""
    return wave if recipe.features.kind == "mel" else analyze(wave, world_settings(recipe))


def conversion_input(path: Path, recipe: Any) -> Any:
    """A file read and analysed by :func:`analyse_wave`."""
    return analyse_wave(read_audio(path, recipe.features.sample_rate), recipe)


def read_utterance(path: Path, recipe: Any) -> ValidationUtterance:
    """Read and analyse one validation file with the recipe's feature settings."""
    analysed = conversion_input(path, recipe)
    if recipe.features.kind == "mel":
        (mel,) = MelAnalyzer(mel_settings(recipe.features)).batch([analysed])
        return ValidationUtterance(path.stem, analysed, mel)
    return ValidationUtterance(path.stem, analysed, analysed.envelope)


class VoiceValidation:
    """Scores the current generators on the validation utterances (see the module docstring)."""

    def __init__(self, recipe: Any, domain_a: list[ValidationUtterance], domain_b: list[ValidationUtterance],
                 references: dict[str, tuple[np.ndarray, np.ndarray]], reference_rate: int,
                 converter: Callable[[ModelBundle, str], WaveConverter]) -> None:
        """``references``: A validation file stem -> :func:`.metrics.wave_features` of its reference at
        ``reference_rate``; ``converter(bundle, direction)`` turns analysed input into a waveform."""
        self.recipe, self.domain_a, self.domain_b = recipe, domain_a, domain_b
        self.references, self.reference_rate, self.converter = references, reference_rate, converter
        self.key = MEL_KEY if recipe.features.kind == "mel" else "envelope"

    def _losses(self, bundle: ModelBundle, direction: str, items: list[ValidationUtterance]) -> tuple[float, float]:
        """Mean L1 cycle and identity losses of one domain's utterances, on the frames the input has."""
        source, _ = bundle.domains(direction)
        forward = bundle.generator(direction)
        backward = bundle.generator("b2a" if direction == "a2b" else "a2b")
        multiple = max(getattr(forward, "time_multiple", 1), getattr(backward, "time_multiple", 1))
        cycle = identity = 0.0
        for item in items:
            x = generator_input(item.features, bundle.statistics[source], self.key,
                                getattr(item.analysed, "f0", None), self.recipe.features.condition)
            frames = x.shape[1]
            real = torch.from_numpy(pad_frames(x, multiple)).float().unsqueeze(0).to(bundle.device)
            cycled = backward(forward(real))[..., :frames].float()
            same = backward(real)[..., :frames].float()
            cycle += F.l1_loss(cycled, real[..., :frames]).item()
            identity += F.l1_loss(same, real[..., :frames]).item()
        return cycle / len(items), identity / len(items)

    def __call__(self, bundle: ModelBundle) -> dict[str, float]:
        cycle_a, identity_a = self._losses(bundle, "a2b", self.domain_a)
        cycle_b, identity_b = self._losses(bundle, "b2a", self.domain_b)
        values = {"cycle": cycle_a + cycle_b, "identity": identity_a + identity_b}
        if self.references:
            convert = self.converter(bundle, "a2b")
            settings = metric_settings(self.reference_rate)
            scores = []
            for item in self.domain_a:
                wave = resample(convert(item.analysed), self.recipe.features.sample_rate, self.reference_rate)
                scores.append(score_features(wave_features(wave, settings), self.references[item.name]))
            values["mcd"] = float(np.mean([s.mcd_db for s in scores]))
            values["log_f0_mean_error"] = float(np.nanmean([s.log_f0_mean_error_cents for s in scores]))
        return values


def read_references(folder: Path, names: list[str]) -> tuple[dict[str, tuple[np.ndarray, np.ndarray]], int]:
    """(stem -> metric features, rate) of the reference of every A validation file; the rate is the first
    reference's, as ``cycleaudio evaluate`` uses; a missing or unreadable reference is a one-line error."""
    found = {p.stem: p for p in audio_files(folder)}
    missing = [n for n in names if n not in found]
    if missing:
        raise CycleAudioError(f"{folder}: no reference for validation file(s) {', '.join(missing[:5])} "
                              f"(data.valid_reference needs files named like the A validation files)")
    rate = int(librosa.get_samplerate(str(found[names[0]])))
    settings = metric_settings(rate)
    try:
        return {n: file_features(found[n], settings) for n in names}, rate
    except InputFileError as exc:
        raise CycleAudioError(f"{exc.path}: unusable validation reference ({exc.reason})") from None
