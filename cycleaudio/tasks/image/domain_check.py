"""In-domain check of images against the SOURCE domain's colour statistics.

* ``colour_z``: the largest over R, G, B of |the image's mean - the domain's mean| in the domain's
  per-channel pixel standard deviations (limit 1.5);
* ``contrast_log2_ratio``: |log2| of the image's contrast (per-channel pixel standard deviation,
  averaged over channels, at least 1/255) over the domain's mean contrast (limit 1.5).

Why these limits: on the built-in domains (statistics of 64 training images, 8 test images), a
domain's own images score colour_z <= 0.27 and contrast <= 0.09, the other domain's <= 0.27 and
<= 0.37 (the same scenes with another coat: what the model converts into, not garbage), so the
limits lie well above those: an image's average colour 1.5 pixel deviations away, or a contrast 2.8
times higher or lower, is a different kind of picture.  A flat grey image is 0.6-0.75 off in colour
and 5.5 in contrast.  Checkpoints from before the
standard deviations were saved (``mean_rgb`` only) are not checked.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ..domain import DomainCheck, Measure

COLOUR_LIMIT = 1.5
CONTRAST_LIMIT = 1.5
CHANNELS = "RGB"


def _contrast(image: torch.Tensor) -> float:
    """Per-channel pixel standard deviation of a uint8 (3, H, W) image in [0, 1] units, averaged."""
    return max(float((image.float() / 255.0).std(dim=(1, 2)).mean()), 1.0 / 255.0)


def colour_statistics(images: list[torch.Tensor]) -> dict[str, Any]:
    """Per-channel pixel std over all images and the mean contrast (saved at training), summed image by
    image so a large domain never sits in memory twice as floats."""
    count = sum(image[0].numel() for image in images)
    sums = sum(image.double().sum(dim=(1, 2)) for image in images) / 255.0
    squares = sum(image.double().pow(2).sum(dim=(1, 2)) for image in images) / 255.0**2
    std = (squares / count - (sums / count) ** 2).clamp_min(0).sqrt()
    return {"std_rgb": std.float().clamp_min(1.0 / 255.0),
            "contrast": float(np.mean([_contrast(image) for image in images]))}


def check_image(image: torch.Tensor, stats: dict[str, Any]) -> DomainCheck:
    """The measures of one uint8 (3, H, W) image against a domain's statistics."""
    mean = (image.float() / 255.0).mean(dim=(1, 2)).numpy()
    z = np.abs(mean - np.asarray(stats["mean_rgb"], dtype=np.float64)) / np.asarray(stats["std_rgb"], dtype=np.float64)
    worst = int(np.argmax(z))
    ratio = _contrast(image) / float(stats["contrast"])
    return DomainCheck((
        Measure("colour_z", float(z[worst]), COLOUR_LIMIT,
                f"mean {CHANNELS[worst]} {mean[worst]:.2f} is {z[worst]:.1f} std from the source domain's"),
        Measure("contrast_log2_ratio", abs(float(np.log2(ratio))), CONTRAST_LIMIT,
                f"contrast {ratio:.2g}x the source domain's"),
    ))
