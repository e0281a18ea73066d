"""Checkerboard measure: how much of an image's energy sits on the lattice frequencies of upsampling.

A x2 upsampling whose even and odd output pixels are computed differently (a stride-2 transposed
convolution) adds a pattern of period 2 pixels, i.e. energy on the Nyquist lines of the 2-D spectrum:
horizontal frequency 1/2 cycle per pixel (any vertical frequency), vertical 1/2 (any horizontal), and
both.  A generator with two x2 stages can also paint a pattern of period 2 at half resolution, i.e.
period 4 in its output (the lines at 1/4 and 3/4 cycle per pixel), which resize-convolutions do not
prevent.  Natural photographs have little energy on either set of lines, so the share of an image's
energy (mean removed) on the lines of period 2 or 4 is a direct number for the artifact.
``checkerboard_ratio`` compares converted images with the images they were made from at the same
size: about 1 means the output is no more checkered than its input, well above 1 a visible lattice.
Some target domains carry fine texture of their own (a zebra's stripes put about 2.6 times a horse
photo's share on the period-2 lines), so the real target images' share at the same size is the other
yardstick: an output above its source but at or below the real targets has the target's texture, not
an upsampling artifact.
"""

from __future__ import annotations

from typing import Sequence

import torch
from PIL import Image

from .io import image_tensor

PERIODS = (2, 4)  # the lattices of one and of two x2 upsampling stages


def lattice_energy_share(image: torch.Tensor, period: int = 2) -> float:
    """Share of the (3, H, W) image's non-DC spectral energy on the lines of ``period`` pixels (frequency
    1/period and its mirror, horizontally or vertically), in [0, 1].

    Sizes are cropped to multiples of ``period`` so those frequencies are DFT bins.  The share is per
    unit of total energy, so contrast and brightness do not change it; a flat image scores 0.
    """
    height, width = (image.shape[-2] // period) * period, (image.shape[-1] // period) * period
    if height < period or width < period:
        raise ValueError(f"need an image of at least {period} x {period} px, got {tuple(image.shape[-2:])}")
    x = image[..., :height, :width].double()
    x = x - x.mean(dim=(-2, -1), keepdim=True)
    power = torch.fft.fft2(x).abs().square().sum(dim=0)
    total = float(power.sum())
    if total == 0.0:
        return 0.0
    on_lines = torch.zeros_like(power, dtype=torch.bool)
    for column in {width // period, width - width // period}:
        on_lines[:, column] = True
    for row in {height // period, height - height // period}:
        on_lines[row, :] = True
    return float(power[on_lines].sum()) / total


def mean_lattice_share(images: Sequence[torch.Tensor], period: int = 2) -> float:
    """``lattice_energy_share`` averaged over images."""
    if not images:
        raise ValueError("no images")
    return sum(lattice_energy_share(image, period) for image in images) / len(images)


def resized_like(source: torch.Tensor, output: torch.Tensor) -> torch.Tensor:
    """The (3, H, W) uint8 ``source`` at ``output``'s size, resized as ``convert --size model`` does
    (Pillow bicubic), i.e. the picture the generator actually saw."""
    if source.shape[-2:] == output.shape[-2:]:
        return source
    picture = Image.fromarray(source.permute(1, 2, 0).contiguous().numpy())
    return image_tensor(picture, (int(output.shape[-1]), int(output.shape[-2])))


def checkerboard_ratio(converted: Sequence[torch.Tensor], source: Sequence[torch.Tensor],
                       period: int = 2) -> dict[str, float]:
    """Mean lattice share (``period`` px) of ``converted`` over that of their uint8 ``source`` images
    (paired in order), with both means.

    Sources are compared at the converted size (``resized_like``): a 256 px photo converted at 128 px
    must be compared with what the generator saw, since downscaling alone changes the share.  Shares are
    averaged before dividing, so one nearly line-free source cannot blow the ratio up.
    """
    if len(converted) != len(source):
        raise ValueError(f"need as many source as converted images, got {len(source)} and {len(converted)}")
    out_mean = mean_lattice_share(converted, period)
    resized = [resized_like(original, output) for output, original in zip(converted, source)]
    in_mean = mean_lattice_share(resized, period)
    return {"converted": out_mean, "source": in_mean, "ratio": out_mean / in_mean if in_mean > 0 else float("inf")}

