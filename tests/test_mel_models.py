"""Mel-spectrogram generators: MaskCycleGAN-VC mask semantics, TFAN, the CycleGAN-VC3 generator."""

from __future__ import annotations

import torch

from cycleaudio.config import ComponentConfig
from cycleaudio.engine.settings import LossConfig, ModelConfig
import cycleaudio.tasks.voice.nets  # noqa: F401  (registers the voice networks)
from cycleaudio.engine.cyclegan import CycleGAN
from cycleaudio.tasks.voice.nets.world_generators import TwoOneTwoDGenerator
from cycleaudio.tasks.voice.nets.tfan import TFAN
from cycleaudio.registry import GENERATORS

TINY = {"feature_dim": 16, "channels": 8, "down_channels": 8, "residual_channels": 16, "n_residual": 1,
        "up_channels": [8, 8]}
TINY_VC3 = {**TINY, "tfan_hidden": 8, "tfan_layers": 2}


def _hide(x: torch.Tensor, start: int, stop: int) -> tuple[torch.Tensor, torch.Tensor]:
    mask = torch.ones_like(x)
    mask[..., start:stop] = 0
    return mask, x.clone().index_fill_(-1, torch.arange(start, stop), 123.0)


def test_mask_generator_is_the_vc2_network_with_masked_input() -> None:
    g = GENERATORS.build("mask_cyclegan_vc", TINY)
    assert isinstance(g, TwoOneTwoDGenerator) and g.masked_input and g.time_multiple == 4


def test_masked_frames_are_invisible_and_no_mask_means_all_ones() -> None:
    for name, args in (("mask_cyclegan_vc", TINY), ("cyclegan_vc3", {**TINY_VC3, "masked_input": True})):
        g = GENERATORS.build(name, args).eval()
        x = torch.randn(2, 16, 32)
        mask, altered = _hide(x, 8, 20)
        torch.testing.assert_close(g(x, mask), g(altered, mask))  # hidden frames cannot leak
        torch.testing.assert_close(g(x), g(x, torch.ones_like(x)))
        assert not torch.allclose(g(x), g(x, mask))  # the mask does change the input


def test_training_masks_the_forward_pass_only() -> None:
    """Filling in frames: forward conversions see a run of zeroed frames, cycle conversions none."""
    model = ModelConfig(ComponentConfig("mask_cyclegan_vc", TINY), ComponentConfig("patchgan_glu", {"channels": 4, "n_down": 2, "max_channels": 8}))
    gan = CycleGAN(model, LossConfig(mask_max_frames=10), seed=0)
    seen: list[torch.Tensor | None] = []
    for g in gan.generators():
        forward = g.forward
        g.forward = lambda x, mask=None, f=forward: (seen.append(mask), f(x, mask))[1]
    gan.generator_loss(torch.randn(2, 16, 32), torch.randn(2, 16, 32), 0)
    forward_masks, cycle_masks = seen[:2], seen[2:4]
    for mask in forward_masks:
        hidden = (mask == 0).all(dim=1)  # (batch, frames)
        assert mask.shape == (2, 16, 32) and hidden.sum(dim=1).le(10).all() and ((mask == 0) | (mask == 1)).all()
        for row in hidden:  # one contiguous run per crop
            idx = row.nonzero().flatten()
            assert len(idx) == 0 or idx[-1] - idx[0] + 1 == len(idx)
    assert any((m == 0).any() for m in forward_masks)
    assert all(m is None for m in cycle_masks)


def test_tfan_shapes_and_dependence_on_the_source() -> None:
    one = TFAN(1, channels=12, source_channels=16, hidden=8, layers=2)
    h, x = torch.randn(2, 12, 8), torch.randn(2, 16, 32)  # activation downsampled x4 in time
    assert one(h, x).shape == h.shape
    assert not torch.allclose(one(h, x), one(h, x + torch.randn_like(x)))
    two = TFAN(2, channels=6, source_channels=1, hidden=8, layers=1)
    h2 = torch.randn(2, 6, 8, 16)
    assert two(h2, x.unsqueeze(1)).shape == h2.shape
    assert not torch.allclose(two(h2, x.unsqueeze(1)), two(h2, -x.unsqueeze(1)))
    # the activation's own scale is normalised away: only the source sets the output scale
    torch.testing.assert_close(one(h * 5 + 3, x), one(h, x), atol=1e-4, rtol=1e-4)


def test_vc3_generator_shapes_and_tfan_conditioning() -> None:
    g = GENERATORS.build("cyclegan_vc3", TINY_VC3)
    x = torch.randn(2, 16, 24)
    y = g(x)
    assert y.shape == x.shape
    y.abs().mean().backward()
    assert all(p.grad is not None for p in g.to_2d_norm.parameters())
    assert sum(isinstance(m, TFAN) for m in g.modules()) == 3
