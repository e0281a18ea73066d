"""Checkpoint files: atomic writes, keep-last-N, safe loading.

Every file holds only tensors, numbers, strings, lists and dicts, so it loads with
``torch.load(weights_only=True)``: no pickled objects, nothing executed on load.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import torch

from ..errors import CycleAudioError

STEP_PATTERN = re.compile(r"step_(\d+)\.pt$")


def write_atomically(state: dict[str, Any], path: Path) -> None:
    """Write to a temporary file in the same folder, then rename: a crash never leaves half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)


def save_training_checkpoint(state: dict[str, Any], checkpoint_dir: Path, step: int, keep: int) -> Path:
    """Write ``step_XXXXXXX.pt`` and ``latest.pt``, then delete all but the newest ``keep`` step files."""
    path = checkpoint_dir / f"step_{step:07d}.pt"
    write_atomically(state, path)
    latest_tmp = checkpoint_dir / "latest.pt.tmp"
    latest_tmp.unlink(missing_ok=True)
    try:
        os.link(path, latest_tmp)
    except OSError:
        torch.save(state, latest_tmp)
    os.replace(latest_tmp, checkpoint_dir / "latest.pt")
    for old in step_checkpoints(checkpoint_dir)[:-keep] if keep > 0 else []:
        old.unlink()
    return path


def step_checkpoints(checkpoint_dir: Path) -> list[Path]:
    """Step checkpoints in a folder, oldest first."""
    found = [p for p in checkpoint_dir.glob("step_*.pt") if STEP_PATTERN.search(p.name)]
    return sorted(found, key=lambda p: int(STEP_PATTERN.search(p.name).group(1)))


def resolve_checkpoint(path: Path | str) -> Path:
    """An experiment folder means its latest checkpoint; a file means itself."""
    path = Path(path)
    if path.is_dir():
        for candidate in (path / "checkpoints" / "latest.pt", path / "latest.pt"):
            if candidate.is_file():
                return candidate
        raise CycleAudioError(f"{path}: no checkpoint in this folder (expected checkpoints/latest.pt)")
    if not path.is_file():
        raise CycleAudioError(f"{path}: no such checkpoint or experiment folder")
    return path


def load_checkpoint(path: Path | str, map_location: str | torch.device = "cpu", mmap: bool = False) -> dict[str, Any]:
    """Load a checkpoint or export safely; a file that is not one is a one-line error.

    ``mmap`` maps the file instead of reading it, so only the tensors used are paged in: conversion
    needs the generators alone, a small part of a full training checkpoint."""
    path = resolve_checkpoint(path)
    try:
        state = torch.load(path, map_location=map_location, weights_only=True, mmap=mmap)
    except Exception as exc:  # torch raises many types for corrupt or foreign files
        raise CycleAudioError(f"{path}: not a readable cycleaudio checkpoint ({type(exc).__name__})") from None
    if not isinstance(state, dict) or "recipe" not in state or "generators" not in state:
        raise CycleAudioError(f"{path}: not a cycleaudio checkpoint (no recipe or generator weights)")
    return state
