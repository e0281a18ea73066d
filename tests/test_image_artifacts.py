"""The checkerboard measure: stride-2 energy shares of synthetic images, and the evaluate report."""

from __future__ import annotations

import pytest
import torch

from cycleaudio.tasks.image.artifacts import (
    checkerboard_ratio,
    mean_lattice_share,
    resized_like,
    lattice_energy_share,
)


def _smooth(size: int = 64, seed: int = 0) -> torch.Tensor:
    """A uint8 (3, size, size) image of random slow waves (periods of 16 px and more)."""
    generator = torch.Generator().manual_seed(seed)
    yy, xx = torch.meshgrid(torch.arange(size).float(), torch.arange(size).float(), indexing="ij")
    channels = []
    for _ in range(3):
        fy, fx, phase = (torch.rand(3, generator=generator) * torch.tensor([0.35, 0.35, 6.28])).tolist()
        channels.append(128 + 80 * torch.sin(fy * yy + fx * xx + phase))
    return torch.stack(channels).round().to(torch.uint8)


def _checkered(image: torch.Tensor, amplitude: float = 30.0) -> torch.Tensor:
    """``image`` plus a +-amplitude pattern of period 2 px in both directions, as transposed convs paint."""
    height, width = image.shape[-2:]
    sign = (torch.arange(height)[:, None] + torch.arange(width)[None, :]) % 2 * 2 - 1
    return (image.float() + amplitude * sign).clamp(0, 255).round().to(torch.uint8)


def test_checkerboard_image_scores_high_and_smooth_low() -> None:
    smooth = _smooth()
    assert lattice_energy_share(smooth) < 0.01
    assert lattice_energy_share(_checkered(smooth)) > 0.15  # 30^2 of the waves' 80^2 / 2: about 0.22
    pure = _checkered(torch.full((3, 32, 32), 128, dtype=torch.uint8))
    assert lattice_energy_share(pure) == pytest.approx(1.0)
    assert lattice_energy_share(torch.full((3, 9, 7), 77, dtype=torch.uint8)) == 0.0  # flat, odd size


def _lattice4(image: torch.Tensor, amplitude: float = 30.0) -> torch.Tensor:
    """``image`` plus a +-amplitude pattern of period 4 px in both directions: a period-2 texture painted
    at half resolution and upsampled by pixel repetition, as a resize-conv generator can learn."""
    height, width = image.shape[-2:]
    sign = (torch.arange(height)[:, None] // 2 + torch.arange(width)[None, :] // 2) % 2 * 2 - 1
    return (image.float() + amplitude * sign).clamp(0, 255).round().to(torch.uint8)


def test_period_four_lattice_is_told_apart_from_period_two() -> None:
    smooth = _smooth()
    assert lattice_energy_share(smooth, 4) < 0.02
    assert lattice_energy_share(_lattice4(smooth), 4) > 0.1
    assert lattice_energy_share(_lattice4(smooth), 2) < 0.01  # no period-2 energy in a 4 px pattern
    assert lattice_energy_share(_checkered(smooth), 4) < 0.02  # nor the other way round
    assert checkerboard_ratio([_lattice4(smooth)], [smooth], period=4)["ratio"] > 10


def test_stripes_of_period_two_count_in_either_direction() -> None:
    stripes = torch.zeros(3, 16, 16)
    stripes[:, :, ::2] = 1.0
    assert lattice_energy_share(stripes) == pytest.approx(1.0)
    assert lattice_energy_share(stripes.transpose(-1, -2)) == pytest.approx(1.0)


def test_ratio_is_one_for_unchanged_images_and_high_for_checkered_ones() -> None:
    sources = [_smooth(seed=seed) for seed in range(3)]
    same = checkerboard_ratio(sources, sources)
    assert same["ratio"] == pytest.approx(1.0) and same["converted"] == pytest.approx(mean_lattice_share(sources))
    assert checkerboard_ratio([_checkered(image) for image in sources], sources)["ratio"] > 50


def test_sources_are_compared_at_the_converted_size() -> None:
    big = _smooth(128)
    small = torch.nn.functional.interpolate(big[None].float(), size=(64, 64), mode="bicubic", antialias=True)[0]
    result = checkerboard_ratio([small.round().clamp(0, 255).to(torch.uint8)], [big])
    assert result["ratio"] == pytest.approx(1.0, rel=0.5)
    with pytest.raises(ValueError, match="as many"):
        checkerboard_ratio([big], [big, big])


def test_references_are_judged_at_the_converted_size() -> None:
    checkered_references = [_checkered(_smooth(128, seed=seed)) for seed in range(2)]
    assert mean_lattice_share(checkered_references) > 0.15
    # halved (bicubic, as evaluate resizes references to the converted size), a 2 px pattern is finer
    # than a pixel and goes: the share depends on the size it is judged at
    at_64 = torch.zeros(3, 64, 64, dtype=torch.uint8)
    assert mean_lattice_share([resized_like(image, at_64) for image in checkered_references]) < 0.05
