"""Reading and writing images with Pillow, and the uint8 <-> [-1, 1] tensor conversions.

Every file a user hands over can be odd: grayscale, palette, with alpha, CMYK, 16-bit, rotated by an
EXIF tag, truncated or not an image at all.  :func:`read_rgb` turns every usable file into an RGB
uint8 tensor (3, H, W) and every unusable one into an :class:`InputFileError` with a one-line reason.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError

from ...errors import InputFileError

SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff")
_WIDE_MODES = {"I;16": 257.0, "I;16B": 257.0, "I;16L": 257.0, "I;16N": 257.0}


def to_rgb(image: Image.Image) -> Image.Image:
    """Any Pillow mode -> RGB: alpha is composited over white (transparent areas are not black),
    16-bit and float images are scaled to 8 bits instead of clipped."""
    if image.mode == "RGB":
        return image
    if image.mode == "P" and "transparency" in image.info:
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    if image.mode in _WIDE_MODES or image.mode in ("I", "F"):
        values = np.asarray(image, dtype=np.float64)
        scale = _WIDE_MODES.get(image.mode) or max(float(values.max()), 1.0) / 255.0
        gray = np.clip(values / scale, 0, 255).astype(np.uint8)
        return Image.fromarray(gray, mode="L").convert("RGB")
    return image.convert("RGB")


def read_rgb(path: Path | str, size: tuple[int, int] | None = None) -> torch.Tensor:
    """Decode ``path`` into a (3, H, W) uint8 tensor, optionally resized (bicubic) to ``size`` = (w, h)."""
    path = Path(path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                image.load()
                image = ImageOps.exif_transpose(image)
                if image.width == 0 or image.height == 0:
                    raise InputFileError(path, "image has zero pixels")
                rgb = to_rgb(image)  # inside the guard: converting decodes the pixels of lazy formats
    except InputFileError:
        raise
    except UnidentifiedImageError:
        raise InputFileError(path, "not an image Pillow can read") from None
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise InputFileError(path, "image is too large to decode safely") from None
    except FileNotFoundError:
        raise InputFileError(path, "no such file") from None
    except (OSError, SyntaxError, ValueError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputFileError(path, f"cannot decode image ({reason})") from None
    return image_tensor(rgb, size)


def image_tensor(image: Image.Image, size: tuple[int, int] | None = None) -> torch.Tensor:
    """A decoded image (any mode) as a (3, H, W) uint8 tensor, optionally resized (bicubic) to ``size`` = (w, h)."""
    rgb = to_rgb(image)
    if size is not None and rgb.size != size:
        rgb = rgb.resize(size, Image.Resampling.BICUBIC)
    return torch.from_numpy(np.array(rgb, dtype=np.uint8)).permute(2, 0, 1).contiguous()


def to_unit(images: torch.Tensor) -> torch.Tensor:
    """uint8 [0, 255] -> float [-1, 1] (the generators' tanh range)."""
    return images.float().div(127.5).sub(1.0)


def to_uint8(images: torch.Tensor) -> torch.Tensor:
    """float [-1, 1] -> uint8 [0, 255], rounded and clipped."""
    return images.detach().float().add(1.0).mul(127.5).round().clamp(0, 255).to(torch.uint8).cpu()


def write_rgb(image: torch.Tensor, path: Path) -> None:
    """Write a (3, H, W) uint8 tensor; the format follows the suffix (PNG for lossless outputs)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(image.permute(1, 2, 0).numpy()).save(path)
