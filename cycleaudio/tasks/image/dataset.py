"""Training images held in memory and sampled with the trainer's random generator.

Each domain's images are decoded and resized to ``load_size`` once (uint8, so horse2zebra's 400
images per domain take about 100 MB), then every batch is random crops and horizontal flips drawn
with the ``torch.Generator`` the trainer saves in its checkpoints: a resumed run sees exactly the
batches the uninterrupted run would have seen.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Sequence

import torch
from torch.nn import functional as F

from ...errors import CycleAudioError, InputFileError
from ...jobs import find_inputs
from .io import SUFFIXES, read_rgb, to_unit

log = logging.getLogger("cycleaudio.image")


class ImageCrops:
    """A SampleSource of random ``crop`` x ``crop`` windows (plus random flips) of uint8 images."""

    def __init__(self, images: Sequence[torch.Tensor], crop: int, flip: bool = True) -> None:
        if not images:
            raise ValueError("no training images")
        small = [i for i, image in enumerate(images) if min(image.shape[-2:]) < crop]
        if small:
            raise ValueError(f"{len(small)} images are smaller than the crop of {crop} px")
        self.images = list(images)
        self.crop = crop
        self.flip = flip

    def __len__(self) -> int:
        return len(self.images)

    def sample(self, batch_size: int, generator: torch.Generator) -> torch.Tensor:
        picks = torch.randint(len(self.images), (batch_size,), generator=generator).tolist()
        crops = []
        for index in picks:
            image = self.images[index]
            height, width = image.shape[-2:]
            top = int(torch.randint(height - self.crop + 1, (), generator=generator))
            left = int(torch.randint(width - self.crop + 1, (), generator=generator))
            crop = image[:, top:top + self.crop, left:left + self.crop]
            if self.flip and float(torch.rand((), generator=generator)) < 0.5:
                crop = crop.flip(-1)
            crops.append(crop)
        return to_unit(torch.stack(crops))


def resize_square(images: Sequence[torch.Tensor], size: int | None) -> list[torch.Tensor]:
    """Bicubic, antialiased resize of uint8 images to ``size`` squared (None, or already that size: unchanged)."""
    out = []
    for image in images:
        if size is None or tuple(image.shape[-2:]) == (size, size):
            out.append(image)
            continue
        scaled = F.interpolate(image[None].float(), size=(size, size), mode="bicubic", antialias=True, align_corners=False)
        out.append(scaled[0].round().clamp(0, 255).to(torch.uint8))
    return out


def center_crop(image: torch.Tensor, crop: int) -> torch.Tensor:
    height, width = image.shape[-2:]
    top, left = (height - crop) // 2, (width - crop) // 2
    return image[..., top:top + crop, left:left + crop]


def load_folder(folder: Path, load_size: int | None, workers: int = 2) -> tuple[list[torch.Tensor], list[Path]]:
    """Decode every image below ``folder`` (or the one file ``folder``), resized to ``load_size`` squared
    when given.

    Bad files are skipped with a one-line warning each; an empty result is an error naming the folder.
    Returns the images and their paths, in sorted path order.
    """
    if not folder.exists():
        raise CycleAudioError(f"{folder}: no such image folder")
    paths = find_inputs(folder, SUFFIXES)
    size = (load_size, load_size) if load_size else None

    def read(path: Path) -> torch.Tensor | None:
        try:
            return read_rgb(path, size)
        except InputFileError as exc:
            log.warning("skipped %s", exc)
            return None

    with ThreadPoolExecutor(max_workers=max(workers, 1)) as pool:
        decoded = list(pool.map(read, paths))
    kept = [(image, path) for image, path in zip(decoded, paths) if image is not None]
    if not kept:
        raise CycleAudioError(f"{folder}: none of the {len(paths)} image files could be read")
    images, good = zip(*kept)
    return list(images), list(good)
