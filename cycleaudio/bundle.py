"""A trained model ready for conversion: generators + recipe + per-domain statistics.

Loaded from an experiment folder, a training checkpoint or an export, so conversion needs only
``--model``: the checkpoint carries the architecture, the statistics and the version.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from . import __version__
from .config import resolve_recipe, to_dict
from .engine.checkpoint import load_checkpoint, resolve_checkpoint, write_atomically
from .engine.cyclegan import build_generators
from .errors import CycleAudioError

DIRECTIONS = ("a2b", "b2a")


@dataclass
class ModelBundle:
    recipe: Any
    g_ab: nn.Module
    g_ba: nn.Module
    statistics: dict[str, Any]
    device: torch.device
    source_path: Path | None = None

    def generator(self, direction: str) -> nn.Module:
        check_direction(direction)
        return self.g_ab if direction == "a2b" else self.g_ba

    @staticmethod
    def domains(direction: str) -> tuple[str, str]:
        """(source domain, target domain) keys of ``statistics`` for a direction."""
        check_direction(direction)
        return ("a", "b") if direction == "a2b" else ("b", "a")


def check_direction(direction: str) -> None:
    if direction not in DIRECTIONS:
        raise CycleAudioError(f"direction must be a2b or b2a, got {direction!r}")


def pick_device(name: str = "auto") -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise CycleAudioError(f"unknown device {name!r}; use auto, cpu, cuda or cuda:N") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise CycleAudioError(f"device {name!r} asked for, but no CUDA device is available")
    return device


def load_bundle(path: Path | str, device: str = "auto") -> ModelBundle:
    """Load generators for inference from an experiment folder, checkpoint or export file."""
    file = resolve_checkpoint(path)
    state = load_checkpoint(file, mmap=True)
    recipe = resolve_recipe(state["recipe"], str(file))
    g_ab, g_ba = build_generators(recipe.model)
    try:
        g_ab.load_state_dict(state["generators"]["g_ab"])
        g_ba.load_state_dict(state["generators"]["g_ba"])
    except (RuntimeError, KeyError) as exc:
        raise CycleAudioError(f"{file}: generator weights do not match the recipe's model ({exc})".splitlines()[0]) from None
    target = pick_device(device)
    g_ab.to(target).eval()
    g_ba.to(target).eval()
    return ModelBundle(recipe, g_ab, g_ba, state.get("statistics", {}), target, file)


def export_bundle(path: Path | str, out: Path) -> Path:
    """Write an inference-only file: generator weights, recipe, statistics and version."""
    state = load_checkpoint(path)
    exported = {
        "format": "cycleaudio-export",
        "version": __version__,
        "recipe": state["recipe"],
        "statistics": state.get("statistics", {}),
        "generators": state["generators"],
    }
    if out.exists():
        raise CycleAudioError(f"{out}: already exists; not overwriting")
    write_atomically(exported, out)
    return out


def recipe_as_dict(recipe: Any) -> dict[str, Any]:
    return to_dict(recipe)
