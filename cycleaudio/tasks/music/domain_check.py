"""In-domain check of MIDI inputs against the SOURCE genre's statistics, on the non-empty phrases.

* ``density_log2_ratio``: |log2| of the song's note density (share of sounding roll cells) over the
  genre's (limit 1.25);
* ``polyphony_log2_ratio``: the same for polyphony, the mean number of pitches sounding where any
  does (limit 1.25);
* ``pitch_outside_share``: share of the song's note-steps outside the genre's pitch range, its 1st to
  99th percentile of note-steps (limit 0.5);
* ``pitch_span_log2_ratio``: |log2| of the song's pitch span (1st to 99th percentile, at least one
  semitone) over the genre's mean song span (limit 1.25).

Why these limits: on the built-in genres (statistics of 40 training songs, the 8 test songs), a
genre's own songs stay below 0.16, 0.16, 0.06 and 0.05; songs of the other genre reach 1.02, 1.02,
0.45 and 0.33, and are no garbage to the model (they are what it learnt to produce), so the limits
lie above those.  A one-note melody is 1.6-2.5 off in density and over 5 in span, a drums-like
pattern of short low notes 2.1-2.4 in span and 0.8 outside the classical range.  Checkpoints from
before the polyphony and pitch statistics were saved are checked on density alone.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ..domain import DomainCheck, Measure
from .corpus import cut_phrases
from .metrics import polyphony
from .roll import SongRoll

RATIO_LIMIT = 1.25
OUTSIDE_LIMIT = 0.5


def pitch_percentiles(on: np.ndarray, lowest_pitch: int) -> tuple[float, float]:
    """The 1st and 99th percentile pitch of the note-steps of binary rolls (..., pitches)."""
    counts = on.reshape(-1, on.shape[-1]).sum(axis=0, dtype=np.float64)
    cumulative = np.cumsum(counts) / counts.sum()
    low, high = np.searchsorted(cumulative, [0.01, 0.99])
    return float(low + lowest_pitch), float(high + lowest_pitch)


def _span(on: np.ndarray, lowest_pitch: int) -> float:
    low, high = pitch_percentiles(on, lowest_pitch)
    return max(high - low, 1.0)


def range_statistics(songs: list[SongRoll], phrases: torch.Tensor, lowest_pitch: int) -> dict[str, float]:
    """The statistics beyond note density that :func:`check_song` compares with (saved at training)."""
    on = phrases[:, 0].numpy()
    low, high = pitch_percentiles(on, lowest_pitch)
    spans = [_span(song.roll[0], lowest_pitch) for song in songs if song.roll[0].any()]
    return {"polyphony": polyphony(phrases[:, 0]), "pitch_low": low, "pitch_high": high,
            "pitch_span": float(np.mean(spans))}


def _ratio(key: str, what: str, value: float, reference: float) -> Measure:
    ratio = max(value, 1e-9) / max(reference, 1e-9)
    return Measure(key, abs(float(np.log2(ratio))), RATIO_LIMIT, f"{what} {ratio:.2g}x the source genre's")


def check_song(song: SongRoll, stats: dict[str, Any], phrase_steps: int, lowest_pitch: int) -> DomainCheck | None:
    """The measures of one song against a genre's statistics; None when no note is left on the grid."""
    on = cut_phrases(song.roll, phrase_steps)[0][:, 0]
    if not on.size:
        return None
    measures = [_ratio("density_log2_ratio", "note density", float(on.mean()), float(stats["density"]))]
    if "pitch_span" in stats:
        counts = on.reshape(-1, on.shape[-1]).sum(axis=0)
        pitches = np.arange(len(counts)) + lowest_pitch
        low, high = float(stats["pitch_low"]), float(stats["pitch_high"])
        outside = float(counts[(pitches < low) | (pitches > high)].sum() / counts.sum())
        measures += [
            _ratio("polyphony_log2_ratio", "polyphony", polyphony(torch.from_numpy(on)), float(stats["polyphony"])),
            Measure("pitch_outside_share", outside, OUTSIDE_LIMIT,
                    f"{outside:.0%} of notes outside the source genre's pitches {low:.0f}-{high:.0f}"),
            _ratio("pitch_span_log2_ratio", "pitch span", _span(on, lowest_pitch), float(stats["pitch_span"])),
        ]
    return DomainCheck(tuple(measures))
