"""Differentiable augmentation of everything the discriminators see (``loss.d_augment``), for small training sets.

With a few dozen utterances (or a few hundred images) per domain a discriminator learns its training
set by heart within hundreds of steps; from then on it wins easily and tells the generators little that
holds beyond those files.  Shifting every input it judges along its time (or image) axes and blanking one
box of it, real and fake alike and with a fresh draw each time, makes memorising much harder without
changing the question it answers: an augmentation applied to both sides leaves equal distributions
equal.  The augmentation is differentiable, so the generators learn through it (it is applied on their
side of the game too, otherwise they would be judged on inputs the discriminator never trains on).

Axes: the last one of a ``(batch, rows, frames)`` input (time; shifting feature rows would mean
nothing), the last two of a ``(batch, channels, height, width)`` one (images, piano rolls).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch

AUGMENTATIONS = ("translation", "cutout")
TRANSLATION_RATIO = 0.125  # shifts of up to 1/8 of each axis, the vacated part zero
CUTOUT_RATIO = 0.5  # one zeroed box of half of each axis

#: ``draw(high, count)``: ``count`` integers in ``[0, high)`` per sample of the batch, shape (batch, count)
Draw = Callable[[int, int], torch.Tensor]


def augmented_axes(x: torch.Tensor) -> list[int]:
    """The axes that are shifted and cut: time for 3-D inputs, height and width for 4-D ones."""
    if x.dim() == 3:
        return [2]
    if x.dim() == 4:
        return [2, 3]
    raise ValueError(f"discriminator augmentation needs 3-D or 4-D inputs, got shape {tuple(x.shape)}")


def positions(x: torch.Tensor, axis: int) -> torch.Tensor:
    """0..length-1 along ``axis``, shaped to broadcast against ``x`` with a leading batch axis."""
    shape = [1] * x.dim()
    shape[axis] = x.shape[axis]
    return torch.arange(x.shape[axis], device=x.device).view(shape)


def per_sample(values: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """One value per sample, shaped (batch, 1, ...) to broadcast against ``x``."""
    return values.view(-1, *([1] * (x.dim() - 1)))


def translate(x: torch.Tensor, shifts: Sequence[torch.Tensor]) -> torch.Tensor:
    """Shift each sample by ``shifts[k][i]`` places along the k-th augmented axis, filling with zeros."""
    for axis, shift in zip(augmented_axes(x), shifts):
        length = x.shape[axis]
        source = positions(x, axis) - per_sample(shift, x)
        inside = (source >= 0) & (source < length)
        index = source.clamp(0, length - 1).expand_as(x)
        x = torch.gather(x, axis, index) * inside
    return x


def cutout(x: torch.Tensor, starts: Sequence[torch.Tensor]) -> torch.Tensor:
    """Zero one box per sample: ``CUTOUT_RATIO`` of each augmented axis from ``starts[k][i]``."""
    inside = torch.ones((), dtype=torch.bool, device=x.device)
    for axis, start in zip(augmented_axes(x), starts):
        size = max(1, int(x.shape[axis] * CUTOUT_RATIO))
        offset = positions(x, axis) - per_sample(start, x)
        inside = inside & (offset >= 0) & (offset < size)
    return x * ~inside


def augment(x: torch.Tensor, policy: Sequence[str], draw: Draw) -> torch.Tensor:
    """``x`` with each augmentation of ``policy`` applied in order, random parameters from ``draw``."""
    axes = augmented_axes(x)
    for name in policy:
        if name == "translation":
            reach = [max(1, int(x.shape[a] * TRANSLATION_RATIO)) for a in axes]
            shifts = [draw(2 * r + 1, 1)[:, 0].to(x.device) - r for r in reach]
            x = translate(x, shifts)
        elif name == "cutout":
            starts = [draw(x.shape[a], 1)[:, 0].to(x.device) - int(x.shape[a] * CUTOUT_RATIO) // 2 for a in axes]
            x = cutout(x, starts)
        else:
            raise ValueError(f"unknown discriminator augmentation {name!r}; choose from {', '.join(AUGMENTATIONS)}")
    return x
