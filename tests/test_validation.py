"""The validation hook of the training loop: interval, log lines, best.pt and its record across resume."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import torch

from cycleaudio.engine.bundle import ModelBundle
from cycleaudio.engine.checkpoint import BEST_FILE, load_checkpoint
from cycleaudio.runner import TASK_MODULES, resolve_recipe, train
from cycleaudio.tasks.base import Validator, cyclegan_recipe_class

from .tensor_task import TensorData, TensorFeatures, TensorTask, tensor_recipe

#: the validation score each step reports (lower is better); steps not listed score 10
SCORES = {2: 1.0, 4: 2.0, 5: 3.0, 6: 1.5, 8: 0.5}


class ScriptedValidationTask(TensorTask):
    """The tensor task with a validation whose scores are scripted by step, so the test knows the best."""

    name = "tensor_valid"
    recipe_class = cyclegan_recipe_class("ScriptedRecipe", TensorData, TensorFeatures, lambda recipe: None)

    def validator(self, recipe: Any) -> Validator:
        def scores(bundle: ModelBundle) -> dict[str, float]:
            assert not bundle.g_ab.training and not torch.is_grad_enabled()  # evaluated like conversion
            return {"score": SCORES.get(bundle.step, 10.0), "other": float(bundle.step)}

        return scores


TASK = ScriptedValidationTask()
TASK_MODULES.setdefault("tensor_valid", __name__)


def _recipe(steps: int, valid_every: int = 2) -> Any:
    raw = tensor_recipe(task="tensor_valid")
    raw["train"].update(steps=steps, valid_every=valid_every, valid_criterion="score")
    return resolve_recipe(raw, "test")


def _valid_lines(exp: Path) -> list[str]:
    return [line for line in (exp / "train.log").read_text().splitlines() if " valid step " in line]


def test_validates_on_its_interval_and_at_the_end(tmp_path: Path) -> None:
    train(_recipe(steps=5), tmp_path / "x", progress=False)
    lines = _valid_lines(tmp_path / "x")
    assert [line.split(" valid step ")[1].split()[0] for line in lines] == ["2", "4", "5"]
    assert "score=1.0000 other=2.0000 (best score so far: written to checkpoints/best.pt)" in lines[0]
    assert "(best score 1.0000 at step 2)" in lines[2]
    best = load_checkpoint(tmp_path / "x" / BEST_FILE)
    assert best["step"] == 2 and best["best"] == {"criterion": "score", "value": 1.0, "step": 2}


def test_resume_keeps_the_better_best_and_replaces_it_only_when_beaten(tmp_path: Path) -> None:
    exp = tmp_path / "x"
    train(_recipe(steps=4), exp, progress=False)  # best: step 2 (1.0); step 4 scores 2.0
    assert load_checkpoint(exp / "checkpoints" / "latest.pt")["best"]["step"] == 2
    best_before = (exp / BEST_FILE).read_bytes()

    train(_recipe(steps=6), exp, resume=True, progress=False)  # step 6 scores 1.5: worse than the run's best
    assert (exp / BEST_FILE).read_bytes() == best_before
    assert "(best score 1.0000 at step 2)" in _valid_lines(exp)[-1]

    train(_recipe(steps=8), exp, resume=True, progress=False)  # step 8 scores 0.5: the new best
    best = load_checkpoint(exp / BEST_FILE)
    assert best["step"] == 8 and best["best"]["value"] == 0.5
    assert load_checkpoint(exp / "checkpoints" / "latest.pt")["best"]["step"] == 8


def test_non_finite_score_never_becomes_best(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setitem(SCORES, 2, math.nan)
    monkeypatch.setitem(SCORES, 4, math.inf)
    train(_recipe(steps=4), tmp_path / "x", progress=False)
    assert not (tmp_path / "x" / BEST_FILE).exists()
    assert "(score not finite: no checkpoints/best.pt yet)" in _valid_lines(tmp_path / "x")[-1]
    assert "best" not in load_checkpoint(tmp_path / "x" / "checkpoints" / "latest.pt")


def test_validation_does_not_change_training(tmp_path: Path) -> None:
    """Validating evaluates without drawing random numbers or touching the weights: same result as without."""
    with_validation = load_checkpoint(train(_recipe(steps=4), tmp_path / "a", progress=False))
    without = load_checkpoint(train(_recipe(steps=4, valid_every=0), tmp_path / "b", progress=False))
    for key, value in with_validation["generators"]["g_ab"].items():
        assert torch.equal(value, without["generators"]["g_ab"][key]), key
