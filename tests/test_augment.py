"""Discriminator augmentation (``loss.d_augment``): exact shifts and boxes, gradients through them, and
every discriminator input augmented once the recipe asks for it."""

from __future__ import annotations

import pytest
import torch

from cycleaudio.engine.augment import augment, cutout, translate
from cycleaudio.engine.cyclegan import CycleGAN
from cycleaudio.errors import RecipeError
from cycleaudio.runner import resolve_recipe

from .tensor_task import tensor_recipe


def _frames(batch: int = 3) -> torch.Tensor:
    """(batch, 2 rows, 8 frames) holding the frame number 1..8, so moved and blanked frames show."""
    return torch.arange(1.0, 9.0).view(1, 1, 8).repeat(batch, 2, 1)


def test_translation_shifts_each_sample_along_time_and_fills_with_zeros() -> None:
    shifted = translate(_frames(), [torch.tensor([1, -2, 0])])
    assert shifted[0, 1].tolist() == [0, 1, 2, 3, 4, 5, 6, 7]
    assert shifted[1, 0].tolist() == [3, 4, 5, 6, 7, 8, 0, 0]
    assert torch.equal(shifted[2], _frames()[2])


def test_cutout_blanks_half_the_frames_from_each_start_clipped_at_the_edges() -> None:
    cut = cutout(_frames(), [torch.tensor([0, 5, -2])])
    assert cut[0, 0].tolist() == [0, 0, 0, 0, 5, 6, 7, 8]
    assert cut[1, 1].tolist() == [1, 2, 3, 4, 5, 0, 0, 0]
    assert cut[2, 0].tolist() == [0, 0, 3, 4, 5, 6, 7, 8]


def test_images_get_a_box_in_height_and_width() -> None:
    cut = cutout(torch.ones(1, 3, 8, 8), [torch.tensor([2]), torch.tensor([4])])
    assert torch.equal(cut[0, 0, 2:6, 4:8], torch.zeros(4, 4))
    assert float(cut.sum()) == 3 * (64 - 16)


def test_augment_keeps_the_shape_and_passes_gradients_to_the_frames_it_keeps() -> None:
    g = torch.Generator().manual_seed(0)
    x = torch.randn(4, 6, 32, requires_grad=True)
    out = augment(x, ["translation", "cutout"], lambda high, count: torch.randint(0, high, (4, count), generator=g))
    assert out.shape == x.shape
    out.sum().backward()
    kept = (x.grad != 0).float().mean(dim=(1, 2))
    assert torch.all(kept >= 0.25) and torch.all(kept < 1.0)  # every sample lost a span, none lost everything


def test_unknown_augmentation_is_a_recipe_error() -> None:
    raw = tensor_recipe()
    raw["loss"] = {"d_augment": ["translation", "flip"]}
    with pytest.raises(RecipeError, match=r"test: loss.d_augment: unknown flip \(choose from translation, cutout\)"):
        resolve_recipe(raw, "test")


def test_every_discriminator_input_is_augmented_on_both_sides_of_the_game() -> None:
    raw = tensor_recipe()
    raw["loss"] = {"two_step": True, "d_augment": ["cutout"]}
    recipe = resolve_recipe(raw, "test")
    model = CycleGAN(recipe.model, recipe.loss)
    seen: list[torch.Tensor] = []
    for critic in model.discriminators.values():
        critic.register_forward_pre_hook(lambda _module, args: seen.append(args[0].detach()))
    real_a, real_b = torch.randn(2, 8, 16), torch.randn(2, 8, 16)
    g_total, _, fakes = model.generator_loss(real_a, real_b, step=0)
    model.discriminator_loss(real_a, real_b, fakes)
    assert len(seen) == 4 + 8  # generator side: d_a, d_b, d2_a, d2_b; discriminator side: real and fake each
    for judged in seen:  # cutout blanks 8 of the 16 frames of every sample (fewer at the edges)
        blank_frames = (judged.abs().sum(dim=1) == 0).sum(dim=1)
        assert torch.all((blank_frames >= 4) & (blank_frames <= 8))
    g_total.backward()
    assert any(p.grad is not None and float(p.grad.abs().sum()) > 0 for p in model.g_ab.parameters())
