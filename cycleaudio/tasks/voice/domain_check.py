"""In-domain check of voice inputs (WORLD models) against the SOURCE speaker's training statistics.

* ``log_f0_z``: how many of the speaker's log-F0 standard deviations the file's median voiced log-F0
  lies from the speaker's mean (limit 2.5);
* ``f0_outside_share``: share of the file's voiced frames outside the speaker's voiced range, the 1st
  to 99th percentile of the training log-F0 (checkpoints older than that statistic: mean -/+ 2.33
  std, the same percentiles of a Gaussian) (limit 0.3);
* ``envelope_distance``: root mean square over coefficients of the file's mean coded envelope minus
  the speaker's mean, in the speaker's per-frame standard deviations (limit 1.0).

Why these limits: on the built-in voices (statistics of 12 training sentences, the 8 evaluation
sentences), a speaker's own files score log_f0_z <= 0.55 and share <= 0.05, the other speaker's
>= 3.9 and >= 0.63; 2.5 std (about 6 semitones at a typical std of 0.14) and 30 % leave room on both
sides for real speakers, whose range is wider.  The envelope distance is 0.1-0.2 for a speaker's own
files and 0.2-0.3 for the other speaker: frame-to-frame variation dwarfs the difference of two
speakers' mean envelopes, so this measure is for what is not such speech at all (tones, noise,
music), which sits a whole frame deviation away.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..domain import DomainCheck, Measure
from .world import WorldFrames

LOG_F0_Z_LIMIT = 2.5
F0_OUTSIDE_LIMIT = 0.3
ENVELOPE_LIMIT = 1.0
#: the 1st and 99th percentiles of a standard normal, for statistics without a measured voiced range
GAUSSIAN_99 = 2.326


def voiced_range(log_f0: np.ndarray) -> dict[str, float]:
    """The statistics :func:`check_frames` compares a file's F0 range with (saved at training)."""
    low, high = np.percentile(log_f0, [1, 99])
    return {"log_f0_low": float(low), "log_f0_high": float(high)}


def check_frames(frames: WorldFrames, stats: dict[str, Any]) -> DomainCheck:
    """The measures of one analysed file against a speaker's statistics."""
    mean, std = np.asarray(stats["envelope_mean"], dtype=np.float64), np.asarray(stats["envelope_std"], dtype=np.float64)
    distance = float(np.sqrt(np.mean(((frames.envelope.mean(axis=0) - mean) / std) ** 2)))
    measures = [Measure("envelope_distance", distance, ENVELOPE_LIMIT,
                        f"spectral envelope {distance:.2f} std from the source speaker's")]
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
            Measure("f0_outside_share", outside, F0_OUTSIDE_LIMIT,
                    f"{outside:.0%} of voiced frames outside the source speaker's {np.exp(low):.0f}-{np.exp(high):.0f} Hz"),
        ]
    return DomainCheck(tuple(measures))
