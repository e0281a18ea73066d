"""The CycleGAN objective: every switched-on term is present and actually reaches the generators."""

from __future__ import annotations

import torch

from cycleaudio.runner import resolve_recipe
from cycleaudio.engine.cyclegan import CycleGAN

from .tensor_task import tensor_recipe


def _model(**loss: object) -> CycleGAN:
    raw = tensor_recipe()
    raw["loss"] = loss
    recipe = resolve_recipe(raw, "test")
    return CycleGAN(recipe.model, recipe.loss)


def _batch() -> tuple[torch.Tensor, torch.Tensor]:
    return torch.randn(2, 8, 16), torch.randn(2, 8, 16)


def test_two_step_adversarial_term_is_in_the_generator_loss() -> None:
    model = _model(two_step=True, lambda_identity=0.0)
    _, logs, fakes = model.generator_loss(*_batch(), step=0)
    assert "g_adv2" in logs
    # the second-step term alone must send gradient into both generators
    model.zero_grad()
    logs["g_adv2"].backward()
    for g in model.generators():
        assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in g.parameters())
    _, d_logs = model.discriminator_loss(*_batch(), fakes)
    assert "d_adv2" in d_logs


def test_identity_loss_switches_off_at_its_own_step() -> None:
    model = _model(lambda_identity=5.0, identity_off_step=10)
    assert "identity" in model.generator_loss(*_batch(), step=9)[1]
    assert "identity" not in model.generator_loss(*_batch(), step=10)[1]


def test_mixed_discriminator_generator_term_is_switchable() -> None:
    on = _model(mixed="partial", mixed_generator_term=True)
    off = _model(mixed="partial", mixed_generator_term=False)
    assert "g_mixed" in on.generator_loss(*_batch(), step=0)[1]
    assert "g_mixed" not in off.generator_loss(*_batch(), step=0)[1]
    a, b = _batch()
    _, fakes = on.generator_loss(a, b, step=0)[1:]
    _, d_logs = on.discriminator_loss(a, b, fakes, torch.randn(2, 8, 16), torch.randn(2, 8, 16))
    assert "d_mixed" in d_logs


def test_each_adversarial_objective_trains_both_sides() -> None:
    """A few discriminator updates lower each objective's discriminator loss on fixed real/fake batches,
    and the generator loss sends gradient into the generators."""
    for name in ("lsgan", "nonsaturating", "hinge", "wgan_gp"):
        torch.manual_seed(0)
        model = _model(adversarial=name)
        real_a, real_b = torch.randn(4, 8, 16) + 1.0, torch.randn(4, 8, 16) - 1.0
        _, _, fakes = model.generator_loss(real_a, real_b, step=0)
        optimizer = torch.optim.Adam(model.discriminators.parameters(), lr=1e-3)
        losses = []
        for _ in range(15):
            d_total, _ = model.discriminator_loss(real_a, real_b, fakes)
            optimizer.zero_grad()
            d_total.backward()
            optimizer.step()
            losses.append(float(d_total.detach()))
        assert losses[-1] < losses[0], name
        g_total, _, _ = model.generator_loss(real_a, real_b, step=0)
        g_total.backward()
        assert any(p.grad is not None and float(p.grad.abs().sum()) > 0 for p in model.g_ab.parameters()), name


def test_masks_hide_a_run_of_frames() -> None:
    model = _model(mask_max_frames=6)
    mask = model._mask(torch.zeros(4, 8, 16))
    assert mask.shape == (4, 8, 16)
    zeros_per_sample = (mask[:, 0] == 0).sum(dim=1)
    assert torch.all(zeros_per_sample <= 6)
    for row in mask[:, 0]:  # the hidden frames form one contiguous run
        idx = (row == 0).nonzero().flatten()
        if idx.numel():
            assert idx[-1] - idx[0] + 1 == idx.numel()
