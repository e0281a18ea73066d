"""Checkpoint files: atomic writes, keep-last-N, one safe loader, random-stream state.

Every file holds only tensors, numbers, strings, lists and dicts, so it loads with
``torch.load(weights_only=True)``: no pickled objects, nothing executed on load.  Each kind of file
says what it is in its ``format`` key; :func:`read_checkpoint` refuses a file of another kind in one line.
"""

from __future__ import annotations

import math
import os
import re
from pathlib import Path
from typing import Any, Callable, Sequence

import torch

from ..errors import CycleAudioError
from ..files import replaced_atomically

STEP_PATTERN = re.compile(r"step_(\d+)\.pt$")

#: ``format`` of a CycleGAN training checkpoint and of its inference-only export
TRAINING_FORMAT = "cycleaudio-checkpoint"
EXPORT_FORMAT = "cycleaudio-export"
GENERATOR_FORMATS = (TRAINING_FORMAT, EXPORT_FORMAT)
#: where an experiment folder keeps the file to load, first match wins
RUN_FILES = ("checkpoints/latest.pt", "latest.pt")
BEST_FILE = "checkpoints/best.pt"
#: key of the best-so-far validation record inside every training checkpoint
BEST_KEY = "best"


def write_atomically(state: dict[str, Any], path: Path) -> None:
    """Write to a temporary file in the same folder, then rename: a crash never leaves half a file."""
    with replaced_atomically(path) as tmp:
        torch.save(state, tmp)


def save_training_checkpoint(state: dict[str, Any], checkpoint_dir: Path, step: int, keep: int) -> Path:
    """Write ``step_XXXXXXX.pt`` and ``latest.pt``, then delete all but the newest ``keep`` step files
    (``keep`` 0 keeps all)."""
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


def resolve_checkpoint(path: Path | str, run_files: Sequence[str] = RUN_FILES) -> Path:
    """An experiment folder means the first of ``run_files`` in it; a file means itself."""
    path = Path(path)
    if path.is_dir():
        for name in run_files:
            if (path / name).is_file():
                return path / name
        raise CycleAudioError(f"{path}: no checkpoint in this folder (expected {' or '.join(run_files)})")
    if not path.is_file():
        raise CycleAudioError(f"{path}: no such checkpoint or experiment folder")
    return path


def read_checkpoint(path: Path | str, formats: Sequence[str], what: str = "cycleaudio checkpoint",
                    map_location: str | torch.device = "cpu", run_files: Sequence[str] = RUN_FILES,
                    mmap: bool = False) -> tuple[Path, dict[str, Any]]:
    """(file, state) of a checkpoint whose ``format`` is one of ``formats``; anything else (missing,
    corrupt, foreign, another kind of cycleaudio file) is a one-line error naming the file.

    ``mmap`` maps the file instead of reading it, so only the tensors used are paged in: conversion
    needs the generators alone, a small part of a full training checkpoint."""
    file = resolve_checkpoint(path, run_files)
    try:
        state = torch.load(file, map_location=map_location, weights_only=True, mmap=mmap)
    except Exception as exc:  # torch raises many types for corrupt or foreign files
        raise CycleAudioError(f"{file}: not a readable {what} ({type(exc).__name__})") from None
    if not isinstance(state, dict) or state.get("format") not in formats:
        found = state.get("format") if isinstance(state, dict) else None
        kind = f"a {found} file" if isinstance(found, str) else "something else"
        raise CycleAudioError(f"{file}: not a {what} ({kind})")
    return file, state


def load_checkpoint(path: Path | str, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """A CycleGAN training checkpoint or export (generators + recipe + statistics)."""
    return read_checkpoint(path, GENERATOR_FORMATS, "cycleaudio model checkpoint", map_location)[1]


def capture_rng(data_rng: torch.Generator) -> dict[str, Any]:
    """Every random stream a training run draws from, for an exact resume."""
    return {"data": data_rng.get_state(), "torch": torch.get_rng_state(),
            "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else []}


def restore_rng(state: dict[str, Any], data_rng: torch.Generator) -> None:
    """Put back the streams :func:`capture_rng` saved."""
    data_rng.set_state(state["data"])
    torch.set_rng_state(state["torch"])
    if state["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def tensors_finite(tree: Any) -> bool:
    """Whether every floating-point tensor in a nested state (dicts, lists) is free of NaN and inf."""
    if isinstance(tree, torch.Tensor):
        return not tree.is_floating_point() or bool(torch.isfinite(tree).all())
    if isinstance(tree, dict):
        return all(tensors_finite(v) for v in tree.values())
    if isinstance(tree, (list, tuple)):
        return all(tensors_finite(v) for v in tree)
    return True


class BestCheckpoint:
    """The lowest validation criterion seen so far and the file (``best.pt``) holding that training state.

    Its record (criterion, value, step) travels in every training checkpoint, so a resumed run compares
    its validations against the best of the whole run, not against nothing, and never replaces
    ``best.pt`` with a worse model.  A record of another criterion (the recipe changed it on resume)
    cannot be compared and is ignored.
    """

    def __init__(self, path: Path, criterion: str) -> None:
        self.path, self.criterion = path, criterion
        self.value, self.step = math.inf, -1

    def restore(self, state: dict[str, Any]) -> None:
        """Take over the record a resumed checkpoint carries, if it is of the same criterion."""
        record = state.get(BEST_KEY)
        if isinstance(record, dict) and record.get("criterion") == self.criterion:
            self.value, self.step = float(record["value"]), int(record["step"])

    def record(self) -> dict[str, Any] | None:
        """What goes into a checkpoint; None until a validation has set a value."""
        if self.step < 0:
            return None
        return {"criterion": self.criterion, "value": self.value, "step": self.step}

    def offer(self, value: float, step: int, state: Callable[[], dict[str, Any]]) -> bool:
        """Write ``state()`` to :attr:`path` (atomically) if ``value`` is finite and lower than the best
        so far; returns whether it was written.  ``state`` is called only then (it copies the weights)."""
        if not math.isfinite(value) or value >= self.value:
            return False
        self.value, self.step = value, step
        best = state()
        best[BEST_KEY] = self.record()
        write_atomically(best, self.path)
        return True
