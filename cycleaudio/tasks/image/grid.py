"""Side-by-side picture of a transfer: input | output | cycled back, one row per image."""

from __future__ import annotations

from typing import Sequence

import torch

GAP = 4  # white pixels between panels, so the three images read as separate pictures


def grid_row(panels: Sequence[torch.Tensor]) -> torch.Tensor:
    """Concatenate (3, H, W) uint8 panels of equal height left to right with white gaps."""
    height = panels[0].shape[-2]
    gap = torch.full((3, height, GAP), 255, dtype=torch.uint8)
    parts: list[torch.Tensor] = []
    for panel in panels:
        parts += [panel, gap]
    return torch.cat(parts[:-1], dim=-1)


def grid_rows(rows: Sequence[torch.Tensor]) -> torch.Tensor:
    """Stack equal-width rows top to bottom with white gaps."""
    width = rows[0].shape[-1]
    gap = torch.full((3, GAP, width), 255, dtype=torch.uint8)
    parts: list[torch.Tensor] = []
    for row in rows:
        parts += [row, gap]
    return torch.cat(parts[:-1], dim=-2)
