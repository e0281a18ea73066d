"""The built-in synthetic image domains: plain-coated vs. striped animal-like blobs on grass.

Both domains draw their layout (horizon, body, head, legs, facing) from the same distribution; they
differ only in the coat: plain brown in A, black-and-white stripes in B.  So a CycleGAN has to learn a
texture and colour change while keeping the shape (horse2zebra in miniature), and the result is
visible within minutes on a CPU.  Every image is a pure function of (domain, index, size, seed).
"""

from __future__ import annotations

import math
from pathlib import Path

import torch

from .io import write_rgb

SKY = torch.tensor([0.62, 0.76, 0.92])
GRASS = torch.tensor([0.27, 0.52, 0.19])
BROWN = torch.tensor([0.56, 0.35, 0.19])
TEST_OFFSET = 1_000_000  # held-out images use indices from here on, so they never repeat a training image


def _uniform(g: torch.Generator, low: float, high: float) -> float:
    return low + (high - low) * float(torch.rand((), generator=g))


def _soft(distance: torch.Tensor, edge: float) -> torch.Tensor:
    """Anti-aliased inside-mask from a signed distance (negative inside)."""
    return torch.clamp(0.5 - distance / edge, 0.0, 1.0)


def _background(g: torch.Generator, size: int, yy: torch.Tensor) -> torch.Tensor:
    horizon = _uniform(g, 0.22, 0.38)
    blades = torch.rand(1, 1, max(size // 6, 2), size, generator=g)
    blades = torch.nn.functional.interpolate(blades, size=(size, size), mode="bilinear", align_corners=False)[0, 0]
    speckle = torch.rand(size, size, generator=g)
    texture = 0.75 + 0.35 * blades + 0.15 * speckle
    grass = GRASS[:, None, None] * texture * (0.8 + 0.4 * yy)
    sky = SKY[:, None, None] * (1.0 - 0.25 * yy / max(horizon, 1e-3))
    ground = _soft(horizon - yy, 1.5 / size)
    return sky * (1 - ground) + grass * ground


def _animal_mask(g: torch.Generator, size: int, yy: torch.Tensor, xx: torch.Tensor) -> tuple[torch.Tensor, float, float]:
    """Soft mask of body + head + neck + four legs; returns (mask, body centre y, body half-height)."""
    cx, cy = _uniform(g, 0.32, 0.68), _uniform(g, 0.52, 0.66)
    rx, ry = _uniform(g, 0.17, 0.26), _uniform(g, 0.09, 0.14)
    facing = 1.0 if float(torch.rand((), generator=g)) < 0.5 else -1.0
    edge = 1.5 / size
    body = ((xx - cx) / rx) ** 2 + ((yy - cy) / ry) ** 2
    mask = _soft((body.sqrt() - 1.0) * min(rx, ry), edge)
    hx, hy, hr = cx + facing * (rx + 0.06), cy - ry - 0.05, _uniform(g, 0.055, 0.075)
    mask = torch.maximum(mask, _soft(((xx - hx) ** 2 + (yy - hy) ** 2).sqrt() - hr, edge))
    neck_x = (xx - (cx + facing * rx * 0.85)).abs() - 0.04
    neck_y = (yy - (cy - ry * 0.5 - 0.04)).abs() - 0.07
    mask = torch.maximum(mask, _soft(torch.maximum(neck_x, neck_y), edge))
    leg_len = _uniform(g, 0.14, 0.2)
    for offset in (-0.75, -0.45, 0.45, 0.75):
        lx = (xx - (cx + offset * rx)).abs() - 0.018
        ly = (yy - (cy + ry * 0.5 + leg_len / 2)).abs() - leg_len / 2
        mask = torch.maximum(mask, _soft(torch.maximum(lx, ly), edge))
    return mask, cy, ry


def _coat(domain: str, g: torch.Generator, yy: torch.Tensor, xx: torch.Tensor, cy: float, ry: float) -> torch.Tensor:
    shade = (1.05 - 0.3 * (yy - cy) / (2 * ry)).clamp(0.6, 1.15)
    if domain == "a":
        return BROWN[:, None, None] * shade
    angle = _uniform(g, -0.35, 0.35)
    frequency = _uniform(g, 9.0, 13.0)
    phase = _uniform(g, 0.0, 2 * math.pi)
    wave = torch.sin(2 * math.pi * frequency * (xx * math.cos(angle) + yy * math.sin(angle)) + phase)
    stripes = torch.sigmoid(6.0 * wave)
    return (0.08 + 0.84 * stripes)[None].expand(3, -1, -1) * shade


def synthetic_image(domain: str, index: int, size: int = 64, seed: int = 0) -> torch.Tensor:
    """One (3, size, size) uint8 image of domain ``a`` (plain coat) or ``b`` (striped coat)."""
    if domain not in ("a", "b"):
        raise ValueError(f"domain must be 'a' or 'b', got {domain!r}")
    g = torch.Generator().manual_seed(seed * 7_919 + index * 2 + (domain == "b"))
    axis = (torch.arange(size, dtype=torch.float32) + 0.5) / size
    yy, xx = torch.meshgrid(axis, axis, indexing="ij")
    background = _background(g, size, yy)
    mask, cy, ry = _animal_mask(g, size, yy, xx)
    coat = _coat(domain, g, yy, xx, cy, ry)
    image = background * (1 - mask) + coat * mask
    return (image.clamp(0, 1) * 255).round().to(torch.uint8)


def synthetic_domain(domain: str, count: int, size: int = 64, seed: int = 0, start: int = 0) -> list[torch.Tensor]:
    return [synthetic_image(domain, start + i, size, seed) for i in range(count)]


def write_builtin_images(out: Path, train: int = 64, test: int = 16, size: int = 64, seed: int = 0) -> Path:
    """Write ``trainA/ trainB/ testA/ testB/`` PNG folders of the built-in domains into ``out``."""
    for split, count, start in (("train", train, 0), ("test", test, TEST_OFFSET)):
        for domain in ("a", "b"):
            folder = out / f"{split}{domain.upper()}"
            for i, image in enumerate(synthetic_domain(domain, count, size, seed, start)):
                write_rgb(image, folder / f"{domain}_{start + i:07d}.png")
    return out
