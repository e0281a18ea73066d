"""The image task: unpaired image-to-image translation (CycleGAN, horse2zebra style).

Images are (3, H, W) tensors in [-1, 1]; the generators, PatchGAN and classifier live in ``nets``.
Training data is two folders (``data.root`` with ``trainA/ trainB/``, or ``data.domain_a`` and
``data.domain_b``) or, when none is given, the built-in synthetic domains.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from ...engine.trainer import TrainingData
from ...errors import CycleAudioError
from ...jobs import JobReport
from ...page import Page
from ..base import ConvertOptions, CycleGANTask, EvaluateOptions, OnnxInputs, ReportInputs, cyclegan_recipe_class
from . import nets  # noqa: F401  (registers the image networks)
from .convert import convert_images
from .dataset import ImageCrops, center_crop, load_folder, resize_square
from .domain_check import colour_statistics
from .evaluate import evaluate_images, format_image_evaluation
from .grid import grid_row, grid_rows
from .inference import ImageTranslator
from .io import SUFFIXES, to_uint8, to_unit, write_rgb
from .report import image_report
from .synthetic import synthetic_domain, write_builtin_images


@dataclass
class ImageData:
    """Where the domains come from: ``root`` (with trainA/ trainB/), two folders, or the built-in set."""

    root: str | None = None
    domain_a: str | None = None
    domain_b: str | None = None
    builtin_train: int = 64
    builtin_size: int = 64
    workers: int = 2

    def validate(self) -> None:
        if self.root is not None and (self.domain_a or self.domain_b):
            raise ValueError("root: give data.root or data.domain_a/domain_b, not both")
        if (self.domain_a is None) != (self.domain_b is None):
            raise ValueError("domain_a: data.domain_a and data.domain_b must be given together")
        if self.builtin_train < 1 or self.builtin_size < 8:
            raise ValueError("builtin_train: needs at least 1 image of at least 8 px")

    def folders(self) -> tuple[Path, Path] | None:
        """The two training folders, or None for the built-in domains."""
        if self.root is not None:
            return Path(self.root) / "trainA", Path(self.root) / "trainB"
        if self.domain_a is not None and self.domain_b is not None:
            return Path(self.domain_a), Path(self.domain_b)
        return None


@dataclass
class ImageFeatures:
    """How training crops are made: resize to ``load_size`` squared (null: keep), random crop, flip."""

    load_size: int | None = 286
    crop_size: int = 256
    flip: bool = True
    preview: int = 4

    def validate(self) -> None:
        if self.crop_size < 8:
            raise ValueError(f"crop_size must be at least 8, got {self.crop_size}")
        if self.preview < 0:
            raise ValueError(f"preview must be >= 0, got {self.preview}")
        if self.load_size is not None and self.load_size < self.crop_size:
            raise ValueError(f"load_size ({self.load_size}) must be at least crop_size ({self.crop_size})")


@dataclass
class ImageConvertOptions(ConvertOptions):
    """``size``: convert at the model's resolution or the original size; ``grid``: also write
    input | output | cycled grids."""

    size: str = "model"
    grid: bool = True


@dataclass
class ImageEvaluateOptions(EvaluateOptions):
    """``classifier``: domain-classifier checkpoint; ``cycled``: cycled-back images; ``inception``:
    InceptionV3 weights for FID/KID."""

    classifier: str | None = None
    cycled: str | None = None
    inception: str | None = None


def _statistics(images: list[torch.Tensor]) -> dict[str, Any]:
    """Mean colour, and what the in-domain check of conversion inputs compares with."""
    mean = torch.stack([image.float().mean(dim=(1, 2)) for image in images]).mean(0) / 255.0
    return {"images": float(len(images)), "mean_rgb": mean, **colour_statistics(images)}


class ImageTask(CycleGANTask):
    name = "image"
    recipe_class = cyclegan_recipe_class("ImageRecipe", ImageData, ImageFeatures)
    suffixes = SUFFIXES
    convert_options = ImageConvertOptions
    evaluate_options = ImageEvaluateOptions

    def __init__(self) -> None:
        self._previews: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}

    # ------------------------------------------------------------------ training data
    def load_domains(self, recipe: Any) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        """uint8 training images of A and B at ``load_size``."""
        data, features = recipe.data, recipe.features
        folders = data.folders()
        if folders is None:
            a = synthetic_domain("a", data.builtin_train, data.builtin_size, recipe.seed)
            b = synthetic_domain("b", data.builtin_train, data.builtin_size, recipe.seed)
            return resize_square(a, features.load_size), resize_square(b, features.load_size)
        a, _ = load_folder(folders[0], features.load_size, data.workers)
        b, _ = load_folder(folders[1], features.load_size, data.workers)
        return a, b

    def prepare(self, recipe: Any, exp_dir: Path) -> TrainingData:
        images_a, images_b = self.load_domains(recipe)
        crop, flip = recipe.features.crop_size, recipe.features.flip
        try:
            source_a, source_b = ImageCrops(images_a, crop, flip), ImageCrops(images_b, crop, flip)
        except ValueError as exc:
            raise CycleAudioError(f"training images: {exc}; lower features.crop_size or raise features.load_size") from None
        count = recipe.features.preview
        if count > 0:
            preview_a, preview_b = (to_unit(torch.stack([center_crop(img, crop) for img in imgs[:count]]))
                                    for imgs in (images_a, images_b))
            self._previews[str(exp_dir)] = (preview_a, preview_b)
        statistics = {"a": _statistics(images_a), "b": _statistics(images_b)}
        return TrainingData(source_a, source_b, statistics)

    def write_builtin_data(self, out: Path) -> Path:
        return write_builtin_images(out)

    # ------------------------------------------------------------------ samples during training
    def write_samples(self, recipe: Any, bundle: Any, step: int, exp_dir: Path, writer: Any) -> None:
        previews = self._previews.get(str(exp_dir))
        if previews is None:
            return
        for direction, real in zip(("a2b", "b2a"), previews):
            real = real.to(bundle.device)
            fake = bundle.generator(direction)(real)
            cycled = bundle.generator("b2a" if direction == "a2b" else "a2b")(fake)
            rows = [grid_row([to_uint8(x[i]) for x in (real, fake, cycled)]) for i in range(real.shape[0])]
            picture = grid_rows(rows)
            write_rgb(picture, exp_dir / "samples" / f"step_{step:07d}_{direction}.png")
            if writer is not None:
                writer.add_image(f"samples/{direction}", picture, step)

    # ------------------------------------------------------------------ conversion and evaluation
    def convert(self, bundle: Any, direction: str, source: Path, target: Path,
                options: ImageConvertOptions) -> JobReport:
        return convert_images(bundle, direction, source, target, options)

    def converter(self, bundle: Any) -> ImageTranslator:
        return ImageTranslator(bundle)

    def onnx_inputs(self, recipe: Any) -> OnnxInputs:
        """(batch, 3, height, width) in [-1, 1]; height and width dynamic.  Sizes must be multiples of
        the generator's ``size_multiple``: multiples of the training crop are, for every generator."""
        crop = int(recipe.features.crop_size)
        return OnnxInputs(torch.rand(1, 3, crop, crop) * 2 - 1, torch.rand(2, 3, 2 * crop, 3 * crop) * 2 - 1,
                          {0: "batch", 2: "height", 3: "width"})

    def evaluate(self, converted: Path, reference: Path, source: Path | None,
                 options: ImageEvaluateOptions) -> dict[str, Any]:
        return {"task": self.name, **evaluate_images(converted, reference, source, options)}

    def format_evaluation(self, result: dict[str, Any]) -> str:
        return format_image_evaluation(result)

    def report(self, page: Page, inputs: ReportInputs) -> None:
        image_report(page, inputs)


TASK = ImageTask()
