"""Engine-level training behaviour: loss goes down, resume is exact, checkpoints are safe."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from cycleaudio.config import resolve_recipe
from cycleaudio.engine.checkpoint import load_checkpoint, step_checkpoints
from cycleaudio.engine.trainer import train_cyclegan
from cycleaudio.errors import CycleAudioError

from .tensor_task import TASK, tensor_recipe


def _recipe(**train: object):
    raw = tensor_recipe()
    raw["train"].update(train)
    return resolve_recipe(raw, "test")


def test_resume_equals_uninterrupted(tmp_path: Path) -> None:
    straight = train_cyclegan(TASK, _recipe(steps=6), tmp_path / "straight", progress=False)
    train_cyclegan(TASK, _recipe(steps=3), tmp_path / "split", progress=False)
    resumed = train_cyclegan(TASK, _recipe(steps=6), tmp_path / "split", resume=True, progress=False)
    a, b = load_checkpoint(straight), load_checkpoint(resumed)
    assert a["step"] == b["step"] == 6
    for name in ("g_ab", "g_ba"):
        for key, value in a["generators"][name].items():
            assert torch.equal(value, b["generators"][name][key]), key
    for key, value in a["discriminators"].items():
        assert torch.equal(value, b["discriminators"][key]), key


def test_checkpoints_keep_last_n_and_load_weights_only(tmp_path: Path) -> None:
    last = train_cyclegan(TASK, _recipe(steps=6, checkpoint_every=1, keep_checkpoints=2), tmp_path / "x", progress=False)
    kept = step_checkpoints(tmp_path / "x" / "checkpoints")
    assert [p.name for p in kept] == ["step_0000005.pt", "step_0000006.pt"]
    state = torch.load(last, weights_only=True)
    assert state["recipe"]["task"] == "tensor" and "statistics" in state and "optimizers" in state
    assert (tmp_path / "x" / "recipe.yaml").read_text().startswith("# resolved recipe")
    assert (tmp_path / "x" / "train.log").read_text().count("step ") >= 3


def test_refuses_to_overwrite_or_resume_nothing(tmp_path: Path) -> None:
    train_cyclegan(TASK, _recipe(steps=1), tmp_path / "x", progress=False)
    with pytest.raises(CycleAudioError, match="already holds checkpoints"):
        train_cyclegan(TASK, _recipe(steps=1), tmp_path / "x", progress=False)
    with pytest.raises(CycleAudioError, match="nothing to resume"):
        train_cyclegan(TASK, _recipe(steps=1), tmp_path / "y", resume=True, progress=False)


def test_training_reduces_cycle_loss(tmp_path: Path) -> None:
    from cycleaudio.engine.trainer import CycleGANTrainer

    raw = tensor_recipe()
    raw["optim"]["schedule"] = {"constant": 100, "decay": 100}
    recipe = resolve_recipe(raw, "test")
    trainer = CycleGANTrainer(recipe, TASK.prepare(recipe, tmp_path), torch.device("cpu"))
    cycle = [float(trainer.train_step()["cycle"]) for _ in range(40)]
    assert sum(cycle[-5:]) / 5 < 0.6 * sum(cycle[:5]) / 5
