"""Voice conversion of in-memory waveforms (``cycleaudio.load`` in a notebook).

The same steps as file conversion: mono, resampled to the model's rate, then the WORLD path (analysis,
generator, F0 transform, synthesis) or the mel path (log-mel, generator, the recipe's vocoder).
"""

from __future__ import annotations

from functools import cached_property

import numpy as np

from ...engine.bundle import ModelBundle
from ...errors import CycleAudioError
from .audio import resample
from .convert import convert_frames, world_settings
from .mel_convert import MelConverter, recipe_vocoder, vocoder_spec
from .vocoder import Vocoder
from .world import analyze, synthesize

TOO_SHORT = "wave too short to convert (fewer than 4 frames)"  # the limits of file conversion


class VoiceConverter:
    """``convert(wave, sample_rate, direction)`` -> (converted wave, the model's sample rate)."""

    def __init__(self, bundle: ModelBundle) -> None:
        self.bundle = bundle
        self.sample_rate = int(bundle.recipe.features.sample_rate)
        self._mel: dict[str, MelConverter] = {}  # per direction

    def __repr__(self) -> str:
        return f"VoiceConverter({self.bundle.recipe.features.kind}, {self.sample_rate} Hz, step {self.bundle.step})"

    @cached_property
    def _vocoder(self) -> Vocoder:
        """The recipe's vocoder (mel models), loaded on first use and shared by both directions."""
        return recipe_vocoder(self.bundle.recipe, vocoder_spec(self.bundle.recipe), self.bundle.device)

    def _mel_converter(self, direction: str) -> MelConverter:
        if direction not in self._mel:
            self._mel[direction] = MelConverter(self.bundle, direction, self._vocoder)
        return self._mel[direction]

    def convert(self, wave: np.ndarray, sample_rate: int, direction: str = "a2b") -> tuple[np.ndarray, int]:
        """Convert samples (mono, or (samples, channels) averaged to mono) recorded at ``sample_rate``."""
        self.bundle.domains(direction)  # checks the direction before any work
        samples = np.asarray(wave, dtype=np.float64)
        if samples.ndim == 2:
            samples = samples.mean(axis=1)
        if samples.ndim != 1 or not np.all(np.isfinite(samples)):
            raise CycleAudioError("wave must be a finite 1-D array (or samples x channels)")
        mono = np.ascontiguousarray(resample(samples, int(sample_rate), self.sample_rate))
        features = self.bundle.recipe.features
        if features.kind == "mel":
            if len(mono) < 3 * features.hop_length:
                raise CycleAudioError(TOO_SHORT)
            return self._mel_converter(direction)(mono), self.sample_rate
        settings = world_settings(self.bundle.recipe)
        frames = analyze(mono, settings)
        if frames.envelope.shape[0] < 4:
            raise CycleAudioError(TOO_SHORT)
        return synthesize(convert_frames(self.bundle, direction, frames), settings), self.sample_rate
