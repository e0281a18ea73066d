"""WORLD vocoder features (pyworld): F0, coded spectral envelope, aperiodicity, and their synthesis.

The spectral envelope is coded to ``envelope_dim`` coefficients with WORLD's own
``code_spectral_envelope`` (a mel-warped cepstrum-like representation); that is what the generators
convert.  Aperiodicity is kept at full resolution and passed through conversion unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import warnings

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # pyworld imports the deprecated pkg_resources
    import pyworld


@dataclass
class WorldSettings:
    """Everything that defines WORLD features; the voice recipe's ``features`` section extends it."""

    sample_rate: int = 16000
    frame_period: float = 5.0
    envelope_dim: int = 36
    f0_method: Literal["harvest", "dio", "fast"] = "harvest"
    f0_floor: float = 71.0
    f0_ceil: float = 800.0

    def validate(self) -> None:
        if self.sample_rate < 8000:
            raise ValueError("sample_rate must be at least 8000")
        if not 0 < self.f0_floor < self.f0_ceil:
            raise ValueError("f0_floor must be positive and below f0_ceil")
        if self.frame_period <= 0 or self.envelope_dim < 2:
            raise ValueError("frame_period must be positive and envelope_dim at least 2")

    @property
    def fft_size(self) -> int:
        return pyworld.get_cheaptrick_fft_size(self.sample_rate, self.f0_floor)


@dataclass
class WorldFrames:
    """Per-frame WORLD features of one utterance: f0 (T,), envelope (T, D), aperiodicity (T, fft/2+1)."""

    f0: np.ndarray
    envelope: np.ndarray
    aperiodicity: np.ndarray


F0_METHODS = ("harvest", "dio", "fast")
GUIDE_PERCENTILE = 1.0  # the guided search spans the 1st-99th percentile of dio's voiced F0 ...
GUIDE_MARGIN = 2.0  # ... widened by an octave each way: harvest still finds F0 that dio missed or halved


def dio_f0(wave: np.ndarray, s: WorldSettings) -> tuple[np.ndarray, np.ndarray]:
    """(f0, time axis) by dio refined with stonemask: about 10x cheaper than harvest, but it calls
    about one frame in seven unvoiced that harvest calls voiced."""
    f0, times = pyworld.dio(wave, s.sample_rate, f0_floor=s.f0_floor, f0_ceil=s.f0_ceil, frame_period=s.frame_period)
    return pyworld.stonemask(wave, f0, times, s.sample_rate), times


def guided_range(f0: np.ndarray, s: WorldSettings) -> tuple[float, float]:
    """Harvest's search range for one recording from a rough F0 track of it.

    Harvest's cost grows with the octaves it searches; one speaker in one recording spans far fewer
    than the 71-800 Hz default.  Falls back to the recipe's range when the rough track has no voice.
    """
    voiced = f0[f0 > 0]
    if voiced.size < 10:
        return s.f0_floor, s.f0_ceil
    low, high = np.percentile(voiced, [GUIDE_PERCENTILE, 100.0 - GUIDE_PERCENTILE])
    return max(s.f0_floor, float(low) / GUIDE_MARGIN), min(s.f0_ceil, float(high) * GUIDE_MARGIN)


def estimate_f0(wave: np.ndarray, s: WorldSettings) -> tuple[np.ndarray, np.ndarray]:
    """(f0, time axis) by ``s.f0_method``: ``harvest`` over the recipe's range (robust, slow), ``dio``
    (dio + stonemask, fast, misses voicing at the edges of voiced stretches) or ``fast`` (harvest
    searching only the range a dio pass found in this recording: harvest's voicing and accuracy at
    about 1.5x its speed)."""
    if s.f0_method == "dio":
        return dio_f0(wave, s)
    floor, ceil = guided_range(dio_f0(wave, s)[0], s) if s.f0_method == "fast" else (s.f0_floor, s.f0_ceil)
    return pyworld.harvest(wave, s.sample_rate, f0_floor=floor, f0_ceil=ceil, frame_period=s.frame_period)


def envelope(wave: np.ndarray, f0: np.ndarray, times: np.ndarray, s: WorldSettings) -> np.ndarray:
    """(T, envelope_dim) coded spectral envelope (cheaptrick, then WORLD's coding)."""
    spectrum = pyworld.cheaptrick(wave, f0, times, s.sample_rate, f0_floor=s.f0_floor, fft_size=s.fft_size)
    return pyworld.code_spectral_envelope(spectrum, s.sample_rate, s.envelope_dim).astype(np.float64)


def aperiodicity(wave: np.ndarray, f0: np.ndarray, times: np.ndarray, s: WorldSettings) -> np.ndarray:
    """(T, fft_size/2 + 1) band aperiodicity (d4c), passed through conversion unchanged."""
    return pyworld.d4c(wave, f0, times, s.sample_rate, fft_size=s.fft_size).astype(np.float64)


def analyze(wave: np.ndarray, s: WorldSettings) -> WorldFrames:
    f0, times = estimate_f0(wave, s)
    return WorldFrames(f0.astype(np.float64), envelope(wave, f0, times, s), aperiodicity(wave, f0, times, s))


def synthesize(frames: WorldFrames, s: WorldSettings) -> np.ndarray:
    spectrum = pyworld.decode_spectral_envelope(np.ascontiguousarray(frames.envelope, dtype=np.float64),
                                                s.sample_rate, s.fft_size)
    return pyworld.synthesize(np.ascontiguousarray(frames.f0, dtype=np.float64), spectrum,
                              np.ascontiguousarray(frames.aperiodicity, dtype=np.float64),
                              s.sample_rate, s.frame_period)


def log_f0_statistics(f0_list: list[np.ndarray]) -> tuple[float, float]:
    """Mean and standard deviation of log F0 over the voiced frames of several utterances."""
    voiced = np.concatenate([np.log(f0[f0 > 0]) for f0 in f0_list])
    if voiced.size < 2:
        raise ValueError("no voiced frames")
    return float(voiced.mean()), float(voiced.std())


def convert_f0(f0: np.ndarray, source: tuple[float, float], target: tuple[float, float]) -> np.ndarray:
    """Log-Gaussian normalised transform on voiced frames; unvoiced frames stay 0."""
    out = np.zeros_like(f0)
    voiced = f0 > 0
    (mu_s, sd_s), (mu_t, sd_t) = source, target
    out[voiced] = np.exp((np.log(f0[voiced]) - mu_s) / sd_s * sd_t + mu_t)
    return out
