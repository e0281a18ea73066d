"""Cheap objective measures of binary piano-roll phrases (N, steps, pitches), on/off channel only.

* content difference: mean((x - x^)^2) of a source phrase and its transfer (how much was changed);
* pitch-class-histogram distance: Euclidean distance (``pitch_class_distance``, the paper's) or total
  variation (``pitch_class_tv``, half the L1 distance: the share of note-steps that would have to move
  to another pitch class, 0-1) of the normalised 12-bin histograms (note-steps per pitch class) of
  source and transfer, over phrase pairs where both have notes;
* onset retention: share of the source's note onsets (a cell that is on where the step before was off)
  that are onsets of the transfer too, at the same step and pitch: how much of the song is kept;
* notes per bar (onsets per ``bar_steps`` steps) and empty rate (share of phrases with no note);
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


def _histogram_differences(source: torch.Tensor, transfer: torch.Tensor, lowest_pitch: int) -> torch.Tensor | None:
    """(M, 12) pitch-class-histogram differences of the phrase pairs where both sound; None if none do."""
    both = source.flatten(1).bool().any(dim=1) & transfer.flatten(1).bool().any(dim=1)
    if not bool(both.any()):
        return None
    return pitch_class_histogram(source[both], lowest_pitch) - pitch_class_histogram(transfer[both], lowest_pitch)


def pitch_class_distance(source: torch.Tensor, transfer: torch.Tensor, lowest_pitch: int) -> float:
    diff = _histogram_differences(source, transfer, lowest_pitch)
    return float("nan") if diff is None else float(diff.norm(dim=1).mean())


def pitch_class_tv(source: torch.Tensor, transfer: torch.Tensor, lowest_pitch: int) -> float:
    diff = _histogram_differences(source, transfer, lowest_pitch)
    return float("nan") if diff is None else float(0.5 * diff.abs().sum(dim=1).mean())


def onsets(phrases: torch.Tensor) -> torch.Tensor:
    """Boolean (N, steps, pitches): a note starts here (on, and off at the step before or phrase start)."""
    on = phrases.bool()
    before = torch.zeros_like(on)
    before[:, 1:] = on[:, :-1]
    return on & ~before


def onset_retention(source: torch.Tensor, transfer: torch.Tensor) -> float:
    kept = onsets(source) & onsets(transfer)
    total = int(onsets(source).sum())
    return float(kept.sum()) / total if total else float("nan")


def notes_per_bar(phrases: torch.Tensor, bar_steps: int) -> float:
    bars = phrases.shape[0] * phrases.shape[1] / bar_steps
    return float(onsets(phrases).sum()) / bars if bars else float("nan")


def empty_rate(phrases: torch.Tensor) -> float:
    return float((~phrases.flatten(1).bool().any(dim=1)).float().mean()) if len(phrases) else float("nan")


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
