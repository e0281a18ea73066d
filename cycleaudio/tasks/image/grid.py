"""Side-by-side picture of a transfer: input | output | cycled back, one row per image."""

from __future__ import annotations

from typing import Sequence

import torch

GAP = 4  # white pixels between panels, so the three images read as separate pictures


def _join(images: Sequence[torch.Tensor], dim: int) -> torch.Tensor:
    """Concatenate (3, H, W) uint8 images along ``dim`` (-1: side by side, -2: stacked) with white gaps."""
    shape = list(images[0].shape)
    shape[dim] = GAP
    gap = torch.full(shape, 255, dtype=torch.uint8)
    parts: list[torch.Tensor] = []
    for image in images:
        parts += [image, gap]
    return torch.cat(parts[:-1], dim=dim)


def grid_row(panels: Sequence[torch.Tensor]) -> torch.Tensor:
    """Concatenate (3, H, W) uint8 panels of equal height left to right with white gaps."""
    return _join(panels, -1)


def grid_rows(rows: Sequence[torch.Tensor]) -> torch.Tensor:
    """Stack equal-width rows top to bottom with white gaps."""
    return _join(rows, -2)
