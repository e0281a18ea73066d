"""Choosing a vocoder by name or checkpoint path, and checking it matches the converter's features."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import numpy as np
import torch

from ....errors import CycleAudioError
from ..mel import MelSettings
from .griffin_lim import GriffinLimVocoder
from .neural import NeuralVocoder

GRIFFIN_LIM = "griffin-lim"


class Vocoder(Protocol):
    """(T, n_mels) log-mel -> waveform; ``settings`` are the mel features it inverts."""

    name: str
    settings: MelSettings

    def __call__(self, log_mel: np.ndarray) -> np.ndarray: ...


def load_vocoder(spec: str, settings: MelSettings, device: torch.device | str = "cpu",
                 griffin_lim_iters: int = 32) -> Vocoder:
    """``griffin-lim`` or a vocoder checkpoint/experiment folder, for features made with ``settings``."""
    if spec in (GRIFFIN_LIM, "griffin_lim", ""):
        return GriffinLimVocoder(settings, griffin_lim_iters, device)
    if not Path(spec).expanduser().exists():
        raise CycleAudioError(f"vocoder {spec!r}: use griffin-lim or the path of a trained vocoder (checkpoint or folder)")
    vocoder = NeuralVocoder.load(Path(spec).expanduser(), device)
    if vocoder.settings != settings:
        raise CycleAudioError(f"{vocoder.source}: trained on mel features {vocoder.settings.as_dict()}, but the model "
                              f"uses {settings.as_dict()}; train the vocoder with the same features settings")
    return vocoder
