"""Data-parallel training: 2 gloo processes with global batch B match 1 process with batch B.

Gradients are compared exactly after one step.  Over several steps results are compared through what
the networks compute, with a small learning rate: Adam turns float-rounding differences in near-zero
gradients into full-size steps, which a GAN then amplifies, so equal-in-exact-arithmetic runs drift
apart at large learning rates however correct the data-parallel arithmetic is.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

import torch
import torch.multiprocessing as mp

from cycleaudio.runner import resolve_recipe
from cycleaudio.engine.checkpoint import load_checkpoint
from cycleaudio.engine.cyclegan import CycleGAN
from cycleaudio.runner import train

from .tensor_task import tensor_recipe
import pytest

pytestmark = pytest.mark.e2e  # runs the real training and CLI entry points


def _recipe(steps: int):
    raw = tensor_recipe()
    raw["loss"].update(pool_size=3, d_input_noise=0.1, d_augment=["translation", "cutout"])
    raw["optim"].update(g_lr=1e-5, d_lr=1e-5)
    raw["train"].update(steps=steps, batch_size=4, checkpoint_every=steps)
    return resolve_recipe(raw, "test")


def _rank_main(rank: int, world: int, port: int, out: str, steps: int) -> None:
    os.environ.update(RANK=str(rank), LOCAL_RANK=str(rank), WORLD_SIZE=str(world),
                      MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    torch.set_num_threads(1)
    train(_recipe(steps), Path(out), progress=False)


def _run_two_ranks(out: Path, steps: int) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    mp.spawn(_rank_main, args=(2, port, str(out), steps), nprocs=2, join=True)


def _outputs(checkpoint: Path | None) -> list[torch.Tensor]:
    """Outputs of all networks of a checkpoint (None: the initial weights) on a fixed input."""
    recipe = _recipe(1)
    torch.manual_seed(recipe.seed)
    model = CycleGAN(recipe.model, recipe.loss)
    if checkpoint is not None:
        state = load_checkpoint(checkpoint)
        model.g_ab.load_state_dict(state["generators"]["g_ab"])
        model.g_ba.load_state_dict(state["generators"]["g_ba"])
        model.discriminators.load_state_dict(state["discriminators"])
    x = torch.randn(3, 8, 16, generator=torch.Generator().manual_seed(7))
    with torch.no_grad():
        outs = [model.g_ab(x), model.g_ba(x)]
        outs += [d(x) for d in model.discriminators.values()]
    return outs


def _first_moments(checkpoint: Path) -> list[torch.Tensor]:
    """Adam's first moment after ONE step is (1 - beta1) x the averaged gradient."""
    state = load_checkpoint(checkpoint)["optimizers"]
    return [s["exp_avg"] for opt in ("g", "d") for s in state[opt]["state"].values()]


def test_gradients_match_after_one_step(tmp_path: Path) -> None:
    single = train(_recipe(1), tmp_path / "single", progress=False)
    _run_two_ranks(tmp_path / "ddp", 1)
    expected, distributed = _first_moments(single), _first_moments(tmp_path / "ddp")
    # the two ranks sum their halves of the batch in another order, so elements that are differences of
    # larger terms (or zero but for rounding) may differ in float32 by a small fraction of the largest
    # gradient; a wrong average (a sum, or one rank's gradient alone) is off by the size of the values
    tolerance = 1e-3 * max(float(a.abs().max()) for a in expected)
    for a, b in zip(expected, distributed, strict=True):
        torch.testing.assert_close(a, b, atol=tolerance, rtol=1e-3)


def _max_gap(a: list[torch.Tensor], b: list[torch.Tensor]) -> float:
    return max(float((x - y).abs().max()) for x, y in zip(a, b, strict=True))


def test_results_match_after_several_steps_and_resume_under_another_world_size(tmp_path: Path) -> None:
    straight = _outputs(train(_recipe(6), tmp_path / "single", progress=False))
    moved = _max_gap(straight, _outputs(None))
    _run_two_ranks(tmp_path / "ddp", 6)
    _run_two_ranks(tmp_path / "mixed", 3)  # 3 steps on 2 ranks, then 3 more on 1
    resumed = train(_recipe(6), tmp_path / "mixed", resume=True, progress=False)
    assert _max_gap(straight, _outputs(tmp_path / "ddp")) < 0.02 * moved
    assert _max_gap(straight, _outputs(resumed)) < 0.02 * moved
