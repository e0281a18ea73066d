"""In-domain check of voice inputs against the SOURCE speaker's training statistics.

WORLD models:

* ``log_f0_z``: how many of the speaker's log-F0 standard deviations the file's median voiced log-F0
  lies from the speaker's mean (limit 2.5);
* ``f0_outside_share``: share of the file's voiced frames outside the speaker's voiced range, the 1st
  to 99th percentile of the training log-F0 (checkpoints older than that statistic: mean -/+ 2.33
  std, the same percentiles of a Gaussian) (limit 0.3);
* ``envelope_distance``: root mean square over coefficients of the file's mean coded envelope minus
  the speaker's mean, in the speaker's per-frame standard deviations (limit 0.6).

Mel models (no F0 track): ``mel_distance``, the same distance on the log-mel spectrum (limit 1.0).

Why these limits: on the built-in voices (statistics of 12 training sentences, the 8 evaluation
sentences), a speaker's own files score log_f0_z <= 0.55 and share <= 0.05, the other speaker's
>= 3.9 and >= 0.63; 2.5 std (about 6 semitones at a typical std of 0.14) and 30 % leave room on both
sides for real speakers, whose range is wider.  The spectral distances do not separate two speakers
(envelope: 0.1-0.2 own files, 0.2-0.3 the other speaker; mel: up to 0.24 and 0.51), since
frame-to-frame variation dwarfs the difference of their means; they are there for what is not speech
at all: a steady tone or white noise lies 0.9 away in envelope and 2.8-3.0 in mel.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..domain import Checker, DomainCheck, Measure
from .mel import MelAnalyzer, MelSettings
from .world import WorldFrames

LOG_F0_Z_LIMIT = 2.5
F0_OUTSIDE_LIMIT = 0.3
ENVELOPE_LIMIT = 0.6
MEL_LIMIT = 1.0
#: the 1st and 99th percentiles of a standard normal, for statistics without a measured voiced range
GAUSSIAN_99 = 2.326


def _spectral_distance(features: np.ndarray, stats: dict[str, Any], key: str, limit: float, what: str) -> Measure:
    """RMS over dimensions of the (T, D) features' mean minus the speaker's ``<key>_mean``, in ``<key>_std``."""
    mean, std = np.asarray(stats[f"{key}_mean"], dtype=np.float64), np.asarray(stats[f"{key}_std"], dtype=np.float64)
    distance = float(np.sqrt(np.mean(((features.mean(axis=0) - mean) / std) ** 2)))
    return Measure(f"{key}_distance", distance, limit, f"{what} {distance:.2f} std from the source speaker's")


def check_frames(frames: WorldFrames, stats: dict[str, Any]) -> DomainCheck:
    """The measures of one analysed file against a speaker's statistics."""
    measures = [_spectral_distance(frames.envelope, stats, "envelope", ENVELOPE_LIMIT, "spectral envelope")]
    voiced = np.log(frames.f0[frames.f0 > 0])
    if voiced.size:
        mu, sd = float(stats["log_f0_mean"]), float(stats["log_f0_std"])
        median = float(np.median(voiced))
        z = abs(median - mu) / sd
        low = float(stats.get("log_f0_low", mu - GAUSSIAN_99 * sd))
        high = float(stats.get("log_f0_high", mu + GAUSSIAN_99 * sd))
        outside = float(np.mean((voiced < low) | (voiced > high)))
        measures += [
            Measure("log_f0_z", z, LOG_F0_Z_LIMIT,
                    f"median F0 {np.exp(median):.0f} Hz is {z:.1f} std from the source speaker's {np.exp(mu):.0f} Hz"),
            Measure("f0_outside_share", outside, F0_OUTSIDE_LIMIT, f"{outside:.0%} of voiced frames outside "
                    f"the source speaker's {np.exp(low):.0f}-{np.exp(high):.0f} Hz"),
        ]
    return DomainCheck(tuple(measures))


def mel_checker(settings: MelSettings, stats: dict[str, Any], device: Any) -> Checker:
    """Waveform -> its check against a speaker's mel statistics (the log-mel computed on ``device``)."""
    analyzer = MelAnalyzer(settings)

    def check(wave: np.ndarray) -> DomainCheck:
        (mel,) = analyzer.batch([wave], device)
        return DomainCheck((_spectral_distance(mel, stats, "mel", MEL_LIMIT, "log-mel spectrum"),))

    return check
