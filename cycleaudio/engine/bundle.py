"""A trained model ready for conversion: both generators, the recipe, the per-domain statistics.

Tasks receive a :class:`ModelBundle` to convert with; the runner builds it from a checkpoint or export
(it is the layer that knows which recipe class a task uses).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ..errors import CycleAudioError

DIRECTIONS = ("a2b", "b2a")


def check_direction(direction: str) -> None:
    if direction not in DIRECTIONS:
        raise CycleAudioError(f"direction must be a2b or b2a, got {direction!r}")


@dataclass
class ModelBundle:
    recipe: Any
    g_ab: nn.Module
    g_ba: nn.Module
    statistics: dict[str, Any]
    device: torch.device
    source_path: Path | None = None
    step: int = 0

    def generator(self, direction: str) -> nn.Module:
        check_direction(direction)
        return self.g_ab if direction == "a2b" else self.g_ba

    @staticmethod
    def domains(direction: str) -> tuple[str, str]:
        """(source domain, target domain) keys of ``statistics`` for a direction."""
        check_direction(direction)
        return ("a", "b") if direction == "a2b" else ("b", "a")

    @property
    def input_device(self) -> torch.device:
        """Where inputs must go: the generators' device."""
        return next(self.g_ab.parameters()).device
