"""Checkerboard measure: how much of an image's energy sits at the stride-2 frequencies.

A x2 upsampling whose even and odd output pixels are computed differently (a stride-2 transposed
convolution) adds a pattern of period 2 pixels, i.e. energy on the Nyquist lines of the 2-D spectrum:
horizontal frequency 1/2 cycle per pixel (any vertical frequency), vertical 1/2 (any horizontal), and
both.  Natural photographs have little energy there, so the share of an image's energy (mean removed)
on those lines is a direct number for the artifact.  ``checkerboard_ratio`` compares converted images
with the images they were made from at the same size: about 1 means the output is no more
checkered than its input, well above 1 means a visible checkerboard.  Some target domains carry fine
texture of their own (a zebra's stripes put about 2.5 times a horse photo's share there), so
``reference_share`` gives the real target images' share at the same size: an output above its source
but at or below the real targets has the target's texture, not an upsampling checkerboard.
"""

from __future__ import annotations

from typing import Sequence

import torch
from PIL import Image

from .io import image_tensor


def stride2_energy_share(image: torch.Tensor) -> float:
    """Share of the (3, H, W) image's non-DC spectral energy on the stride-2 (Nyquist) lines, in [0, 1].

    Odd sizes are cropped to even ones so the Nyquist frequency is a DFT bin.  The share is per unit of
    total energy, so contrast and brightness do not change it; a flat image scores 0.
    """
    height, width = (image.shape[-2] // 2) * 2, (image.shape[-1] // 2) * 2
    if height < 2 or width < 2:
        raise ValueError(f"need an image of at least 2 x 2 px, got {tuple(image.shape[-2:])}")
    x = image[..., :height, :width].double()
    x = x - x.mean(dim=(-2, -1), keepdim=True)
    power = torch.fft.fft2(x).abs().square().sum(dim=0)
    total = float(power.sum())
    if total == 0.0:
        return 0.0
    on_lines = power[:, width // 2].sum() + power[height // 2, :].sum() - power[height // 2, width // 2]
    return float(on_lines) / total


def mean_stride2_share(images: Sequence[torch.Tensor]) -> float:
    """``stride2_energy_share`` averaged over images."""
    if not images:
        raise ValueError("no images")
    return sum(stride2_energy_share(image) for image in images) / len(images)


def resized_like(source: torch.Tensor, output: torch.Tensor) -> torch.Tensor:
    """The (3, H, W) uint8 ``source`` at ``output``'s size, resized as ``convert --size model`` does
    (Pillow bicubic), i.e. the picture the generator actually saw."""
    if source.shape[-2:] == output.shape[-2:]:
        return source
    picture = Image.fromarray(source.permute(1, 2, 0).contiguous().numpy())
    return image_tensor(picture, (int(output.shape[-1]), int(output.shape[-2])))


def checkerboard_ratio(converted: Sequence[torch.Tensor], source: Sequence[torch.Tensor]) -> dict[str, float]:
    """Mean stride-2 energy share of ``converted`` over that of their uint8 ``source`` images (paired in
    order), with both means.

    Sources are compared at the converted size (``resized_like``): a 256 px photo converted at 128 px
    must be compared with what the generator saw, since downscaling alone changes the share.  Shares are
    averaged before dividing, so one nearly line-free source cannot blow the ratio up.
    """
    if len(converted) != len(source):
        raise ValueError(f"need as many source as converted images, got {len(source)} and {len(converted)}")
    out_mean = mean_stride2_share(converted)
    in_mean = mean_stride2_share([resized_like(original, output) for output, original in zip(converted, source)])
    return {"converted": out_mean, "source": in_mean, "ratio": out_mean / in_mean if in_mean > 0 else float("inf")}


def reference_share(reference: Sequence[torch.Tensor], size_like: torch.Tensor) -> float:
    """Mean stride-2 energy share of the uint8 ``reference`` images, each resized to ``size_like``'s size
    as the sources are (``resized_like``): the level of period-2 texture that real target images have."""
    return mean_stride2_share([resized_like(image, size_like) for image in reference])
