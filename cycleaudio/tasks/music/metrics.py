"""Cheap objective measures of binary piano-roll phrases (N, steps, pitches), on/off channel only.

* content difference: mean((x - x^)^2) of a source phrase and its transfer (how much was changed);
* pitch-class-histogram distance: Euclidean distance of the normalised 12-bin histograms (note-steps
  per pitch class) of source and transfer, over phrase pairs where both have notes;
* polyphony: mean number of sounding pitches over the steps where anything sounds;
* empty-beat rate: fraction of beats (``steps_per_beat`` steps) with no note at all.
"""

from __future__ import annotations

import torch


def pitch_class_histogram(phrases: torch.Tensor, lowest_pitch: int) -> torch.Tensor:
    """(N, 12) per-phrase histograms of note-steps per pitch class, each summing to 1 (or 0 if empty)."""
    per_pitch = phrases.float().sum(dim=1)
    classes = (torch.arange(per_pitch.shape[1]) + lowest_pitch) % 12
    hist = torch.zeros(per_pitch.shape[0], 12).index_add_(1, classes, per_pitch)
    return hist / hist.sum(dim=1, keepdim=True).clamp_min(1e-9)


def pitch_class_distance(source: torch.Tensor, transfer: torch.Tensor, lowest_pitch: int) -> float:
    both = source.flatten(1).bool().any(dim=1) & transfer.flatten(1).bool().any(dim=1)
    if not bool(both.any()):
        return float("nan")
    diff = pitch_class_histogram(source[both], lowest_pitch) - pitch_class_histogram(transfer[both], lowest_pitch)
    return float(diff.norm(dim=1).mean())


def content_difference(source: torch.Tensor, transfer: torch.Tensor) -> float:
    return float((source.float() - transfer.float()).pow(2).mean())


def polyphony(phrases: torch.Tensor) -> float:
    voices = phrases.float().sum(dim=2).flatten()
    sounding = voices > 0
    return float(voices[sounding].mean()) if bool(sounding.any()) else 0.0


def empty_beat_rate(phrases: torch.Tensor, steps_per_beat: int) -> float:
    n, steps, pitches = phrases.shape
    beats = phrases[:, : steps - steps % steps_per_beat].reshape(n, -1, steps_per_beat * pitches)
    return float((~beats.bool().any(dim=2)).float().mean()) if beats.numel() else float("nan")
