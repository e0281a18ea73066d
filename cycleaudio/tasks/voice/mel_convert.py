"""Conversion with a mel-spectrogram model: log-mel -> generator -> vocoder.

Workers read (and resample) the files, or pieces of long ones; the main process computes the log-mel
on the model's device, normalises it with the SOURCE speaker's per-bin statistics, runs the generator,
de-normalises with the TARGET speaker's statistics and hands the frames to the vocoder (Griffin-Lim
or a trained neural vocoder, see :mod:`.vocoder`).  Pitch is converted by the generator itself (it is
in the mel harmonics), so there is no separate F0 transform.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import numpy as np

from ...engine.bundle import ModelBundle
from ...errors import CycleAudioError, InputFileError
from .chunks import Piece, read_piece
from .convert import Pipeline, convert_features
from .mel import MelAnalyzer, mel_settings
from .vocoder import GRIFFIN_LIM, Vocoder, load_vocoder

MEL_KEY = "mel"  # statistics keys: mel_mean, mel_std


def vocoder_spec(recipe: Any, override: str | None = None) -> str:
    """``--vocoder`` if given, else the recipe's ``features.vocoder``, else Griffin-Lim."""
    return str(override or recipe.features.vocoder or GRIFFIN_LIM)


def recipe_vocoder(recipe: Any, spec: str, device: Any) -> Vocoder:
    return load_vocoder(spec, mel_settings(recipe.features), device, recipe.features.griffin_lim_iters)


class MelConverter:
    """One direction of a mel model plus its vocoder: waveform in, converted waveform out."""

    def __init__(self, bundle: ModelBundle, direction: str, vocoder: Vocoder) -> None:
        self.bundle, self.direction, self.vocoder = bundle, direction, vocoder
        self.analyzer = MelAnalyzer(mel_settings(bundle.recipe.features))

    def __call__(self, wave: np.ndarray) -> np.ndarray:
        (mel,) = self.analyzer.batch([wave], self.bundle.device)
        converted = convert_features(self.bundle, self.direction, mel, MEL_KEY)
        return self.vocoder(converted)[: len(wave)]


def _read_piece(piece: Piece, sample_rate: int, min_samples: int) -> tuple[np.ndarray, float]:
    wave, seconds = read_piece(piece, sample_rate)
    if len(wave) < min_samples:
        raise InputFileError(piece.path, "too short to convert (fewer than 4 frames)")
    return wave, seconds


def mel_pipeline(bundle: ModelBundle, direction: str, vocoder: str | None = None) -> Pipeline:
    recipe = bundle.recipe
    settings = mel_settings(recipe.features)
    converter = MelConverter(bundle, direction, recipe_vocoder(recipe, vocoder_spec(recipe, vocoder), bundle.device))
    return Pipeline(partial(_read_piece, sample_rate=settings.sample_rate, min_samples=3 * settings.hop_length),
                    converter, None, settings.sample_rate)


def check_world_vocoder(vocoder: str | None) -> None:
    """WORLD models resynthesise with WORLD; any other ``--vocoder`` is a user error."""
    if vocoder not in (None, "", "world"):
        raise CycleAudioError("this model converts WORLD features and resynthesises with WORLD; "
                              "--vocoder applies to mel models (features.kind: mel)")
