"""Image translation of in-memory Pillow images (``cycleaudio.load`` in a notebook), with the same
resizing, padding and value range as file conversion."""

from __future__ import annotations

from PIL import Image, ImageOps

from ...engine.bundle import ModelBundle
from ...errors import CycleAudioError
from .convert import MAX_ORIGINAL_PIXELS, translate_batch
from .io import image_tensor, to_uint8, to_unit


class ImageTranslator:
    """``translate(img, direction, size)`` -> the translated RGB image."""

    def __init__(self, bundle: ModelBundle) -> None:
        self.bundle = bundle
        self.crop = int(bundle.recipe.features.crop_size)

    def __repr__(self) -> str:
        return f"ImageTranslator({self.crop} px, step {self.bundle.step})"

    def translate(self, img: Image.Image, direction: str = "a2b", size: str = "model") -> Image.Image:
        """``size="model"`` resizes to the training crop (as ``convert`` does by default); ``"original"``
        keeps the image's size.  EXIF rotation is applied, as when reading files."""
        if size not in ("model", "original"):
            raise CycleAudioError(f"size must be model or original, got {size!r}")
        if size == "original" and img.width * img.height > MAX_ORIGINAL_PIXELS:
            raise CycleAudioError(f"{img.width}x{img.height} is too large for size original "
                                  f"(over {MAX_ORIGINAL_PIXELS} pixels); use size model")
        image = image_tensor(ImageOps.exif_transpose(img), (self.crop, self.crop) if size == "model" else None)
        output = translate_batch(self.bundle.generator(direction), to_unit(image[None]).to(self.bundle.device))
        return Image.fromarray(to_uint8(output[0]).permute(1, 2, 0).numpy())
