"""Shapes and semantics of the CycleGAN-VC family networks and blocks."""

from __future__ import annotations

import pytest
import torch
from torch.nn import functional as F

from cycleaudio.engine.blocks import GatedConv, PixelShuffle1d
from cycleaudio.tasks.voice.nets.discriminators import GatedPatchGAN
from cycleaudio.tasks.voice.nets.world_generators import GatedCNN1dGenerator, TwoOneTwoDGenerator
from cycleaudio.errors import RecipeError
from cycleaudio.registry import GENERATORS


def test_gated_conv_is_a_true_glu() -> None:
    block = GatedConv(1, 3, 4, 3, norm=False)
    x = torch.randn(2, 3, 10)
    raw = block.conv(x)
    value, gate = raw[:, :4], raw[:, 4:]
    assert torch.allclose(block(x), value * torch.sigmoid(gate))
    assert not torch.allclose(block(x), F.silu(raw[:, :4]))


def test_pixel_shuffle_1d_interleaves_channels_into_time() -> None:
    x = torch.arange(12.0).reshape(1, 4, 3)  # channels c0..c3, 3 frames
    y = PixelShuffle1d(2)(x)
    assert y.shape == (1, 2, 6)
    assert y[0, 0].tolist() == [0.0, 3.0, 1.0, 4.0, 2.0, 5.0]


@pytest.mark.parametrize("frames", [32, 44, 100])
def test_vc2_generator_keeps_shape_for_any_multiple_of_four(frames: int) -> None:
    g = TwoOneTwoDGenerator(feature_dim=12, channels=8, down_channels=8, residual_channels=8, n_residual=1, up_channels=(8, 4))
    assert g(torch.randn(2, 12, frames)).shape == (2, 12, frames)


def test_vc1_generator_and_masked_input() -> None:
    g = GatedCNN1dGenerator(feature_dim=10, channels=8, residual_channels=16, n_residual=1)
    assert g(torch.randn(1, 10, 24)).shape == (1, 10, 24)
    masked = TwoOneTwoDGenerator(feature_dim=8, channels=4, down_channels=4, residual_channels=4, n_residual=1,
                                 up_channels=(4, 4), masked_input=True)
    x, mask = torch.randn(1, 8, 16), torch.ones(1, 8, 16)
    mask[..., 4:8] = 0
    assert masked(x, mask).shape == x.shape
    assert not torch.allclose(masked(x, mask), masked(x))  # the mask reaches the network


def _small_vc2(**args: object) -> TwoOneTwoDGenerator:
    return TwoOneTwoDGenerator(feature_dim=8, channels=4, down_channels=4, residual_channels=4, n_residual=1,
                               up_channels=(4, 4), **args)


def test_residual_generators_start_as_the_identity_and_then_learn_an_edit() -> None:
    torch.manual_seed(0)
    x = torch.randn(2, 8, 16)
    for g in (_small_vc2(residual=True), GatedCNN1dGenerator(feature_dim=8, channels=4, residual_channels=8,
                                                             n_residual=1, residual=True)):
        assert torch.equal(g(x), x)  # untrained: the statistics-only conversion
        optimiser = torch.optim.Adam(g.parameters(), lr=1e-2)
        target = x + 0.5
        before = F.l1_loss(g(x), target).item()
        for _ in range(5):
            optimiser.zero_grad()
            F.l1_loss(g(x), target).backward()
            optimiser.step()
        assert F.l1_loss(g(x), target).item() < before  # gradients reach the whole network through the zero layer


def test_residual_masked_generator_does_not_copy_hidden_frames() -> None:
    g = _small_vc2(residual=True, masked_input=True)
    x, mask = torch.randn(1, 8, 16), torch.ones(1, 8, 16)
    mask[..., 4:8] = 0
    assert torch.equal(g(x, mask), x * mask)  # the hidden frames are not leaked into the output


def test_patchgan_gives_a_score_map() -> None:
    d = GatedPatchGAN(channels=8, n_down=3, max_channels=32)
    scores = d(torch.randn(3, 36, 128))
    assert scores.shape == (3, 1, 5, 16)


def test_full_size_vc2_matches_paper_widths() -> None:
    g = TwoOneTwoDGenerator()
    assert g(torch.randn(1, 36, 128)).shape == (1, 36, 128)
    assert 15e6 < sum(p.numel() for p in g.parameters()) < 30e6


def test_registry_rejects_unknown_arguments_and_names() -> None:
    with pytest.raises(RecipeError, match="no argument 'width'.*accepted: feature_dim"):
        GENERATORS.build("cyclegan_vc2", {"width": 3})
    with pytest.raises(RecipeError, match="unknown generator 'nope'; choose one of: .*cyclegan_vc2"):
        GENERATORS.build("nope")
    with pytest.raises(RecipeError, match="multiple of 4"):
        GENERATORS.build("cyclegan_vc2", {"feature_dim": 10})
