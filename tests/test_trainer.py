"""Engine-level training behaviour: loss goes down, resume is exact, checkpoints are safe."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from cycleaudio.runner import resolve_recipe
from cycleaudio.engine.checkpoint import load_checkpoint, step_checkpoints
from cycleaudio.runner import train
from cycleaudio.errors import CycleAudioError

from .tensor_task import TASK, tensor_recipe


def _recipe(**train: object):
    raw = tensor_recipe()
    raw["train"].update(train)
    return resolve_recipe(raw, "test")


def test_resume_equals_uninterrupted(tmp_path: Path) -> None:
    straight = train(_recipe(steps=6), tmp_path / "straight", progress=False)
    train(_recipe(steps=3), tmp_path / "split", progress=False)
    resumed = train(_recipe(steps=6), tmp_path / "split", resume=True, progress=False)
    a, b = load_checkpoint(straight), load_checkpoint(resumed)
    assert a["step"] == b["step"] == 6
    for name in ("g_ab", "g_ba"):
        for key, value in a["generators"][name].items():
            assert torch.equal(value, b["generators"][name][key]), key
    for key, value in a["discriminators"].items():
        assert torch.equal(value, b["discriminators"][key]), key


def test_checkpoints_keep_last_n_and_load_weights_only(tmp_path: Path) -> None:
    last = train(_recipe(steps=6, checkpoint_every=1, keep_checkpoints=2), tmp_path / "x", progress=False)
    kept = step_checkpoints(tmp_path / "x" / "checkpoints")
    assert [p.name for p in kept] == ["step_0000005.pt", "step_0000006.pt"]
    state = torch.load(last, weights_only=True)
    assert state["recipe"]["task"] == "tensor" and "statistics" in state and "optimizers" in state
    assert (tmp_path / "x" / "recipe.yaml").read_text().startswith("# resolved recipe")
    assert (tmp_path / "x" / "train.log").read_text().count("step ") >= 3


def test_refuses_to_overwrite_or_resume_nothing(tmp_path: Path) -> None:
    train(_recipe(steps=1), tmp_path / "x", progress=False)
    with pytest.raises(CycleAudioError, match="already holds checkpoints"):
        train(_recipe(steps=1), tmp_path / "x", progress=False)
    with pytest.raises(CycleAudioError, match="nothing to resume"):
        train(_recipe(steps=1), tmp_path / "y", resume=True, progress=False)


def test_training_reduces_cycle_loss(tmp_path: Path) -> None:
    from cycleaudio.engine.trainer import CycleGANTrainer

    raw = tensor_recipe()
    raw["optim"]["schedule"] = {"constant": 100, "decay": 100}
    recipe = resolve_recipe(raw, "test")
    trainer = CycleGANTrainer(recipe, TASK.prepare(recipe, tmp_path), torch.device("cpu"))
    cycle = [float(trainer.train_step()["cycle"]) for _ in range(40)]
    assert sum(cycle[-5:]) / 5 < 0.6 * sum(cycle[:5]) / 5


def test_non_finite_loss_stops_training_and_keeps_earlier_checkpoints(tmp_path: Path) -> None:
    """A learning rate that blows the networks up ends the run with a one-line message naming the step;
    the checkpoints written before it stay, and nothing after it is written."""
    raw = tensor_recipe()
    raw["train"].update(steps=8, checkpoint_every=1, log_every=4, keep_checkpoints=0)
    raw["optim"].update(g_lr=1e30, d_lr=1e30)
    with pytest.raises(CycleAudioError, match=r"non-finite \(NaN or inf\) at step (\d+); training stopped") as caught:
        train(resolve_recipe(raw, "test"), tmp_path / "x", progress=False)
    assert "\n" not in str(caught.value)
    bad_step = int(str(caught.value).split("at step ")[1].split(";")[0])
    kept = step_checkpoints(tmp_path / "x" / "checkpoints")
    assert kept and [int(p.stem.split("_")[1]) for p in kept] == list(range(1, bad_step))
    for path in kept:
        weights = load_checkpoint(path)["generators"]["g_ab"]
        assert all(torch.isfinite(w).all() for w in weights.values() if w.is_floating_point()), path.name
    assert f"non-finite loss at step {bad_step}" in (tmp_path / "x" / "train.log").read_text()


def test_auto_precision_is_bf16_only_where_it_trains_faster(monkeypatch: pytest.MonkeyPatch) -> None:
    from cycleaudio.engine import device

    cpu = torch.device("cpu")
    monkeypatch.setattr(device, "cpu_has_bf16_matrix_units", lambda: False)
    assert device.resolve_precision("auto", cpu) == "fp32"  # AVX-512 BF16 alone measured slower
    monkeypatch.setattr(device, "cpu_has_bf16_matrix_units", lambda: True)
    assert device.resolve_precision("auto", cpu) == "bf16"
    assert device.resolve_precision("fp16", cpu) == "fp16"  # an explicit choice is kept


def test_weight_average_converts_and_resumes_exactly(tmp_path: Path) -> None:
    straight = load_checkpoint(train(_recipe(steps=6, ema_decay=0.9), tmp_path / "straight", progress=False))
    train(_recipe(steps=3, ema_decay=0.9), tmp_path / "split", progress=False)
    resumed = load_checkpoint(train(_recipe(steps=6, ema_decay=0.9), tmp_path / "split", resume=True,
                                    progress=False))
    for kind in ("generators", "trained_generators"):
        for key, value in straight[kind]["g_ab"].items():
            assert torch.equal(value, resumed[kind]["g_ab"][key]), (kind, key)
    averaged, trained = straight["generators"]["g_ab"], straight["trained_generators"]["g_ab"]
    assert any(not torch.equal(averaged[k], trained[k]) for k in averaged)  # conversion uses the average


def test_weight_average_ramps_up_to_its_decay() -> None:
    from cycleaudio.engine.trainer import CycleGANTrainer

    recipe = _recipe(steps=1, ema_decay=0.5)
    trainer = CycleGANTrainer(recipe, TASK.prepare(recipe, Path(".")), torch.device("cpu"))
    average = trainer.averages[0]
    assert average.decay_at(0) == pytest.approx(0.1) and average.decay_at(1000) == 0.5
    before = {k: v.clone() for k, v in trainer.model.g_ab.state_dict().items()}
    trainer.train_step()
    after = trainer.model.g_ab.state_dict()
    averaged = trainer.conversion_generators()[0].state_dict()
    for key, value in before.items():  # first step: 0.1 of the initial weights, 0.9 of the trained ones
        assert torch.allclose(averaged[key], 0.1 * value + 0.9 * after[key], atol=1e-6), key


def test_weight_average_decay_is_checked() -> None:
    with pytest.raises(CycleAudioError, match="ema_decay"):
        _recipe(steps=1, ema_decay=1.0)
