"""The image domain classifier (real A vs real B) behind the transfer score.

Thin image glue around :mod:`cycleaudio.engine.classifier`: images are resized to ``size`` squared
(plus 1/8 margin for random crops and flips while training), the network is ``image_cnn`` from
``nets``, and the resolution travels in the checkpoint's recipe so evaluation resizes exactly as
training did.  Train one from two folders with ``cycleaudio train image_classifier`` (see
``classifier_task``); ``evaluate`` trains a small one on the fly when none is given.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import torch

from ...engine.classifier import ClassifierSettings, DomainClassifier, train_classifier
from .dataset import ImageCrops, resize_square
from .io import to_unit

DEFAULT_SIZE = 128
DEFAULT_NETWORK = {"name": "image_cnn", "args": {"channels": 16, "n_layers": 5}}


def as_batch(images: Sequence[torch.Tensor], size: int) -> torch.Tensor:
    """uint8 images of any sizes -> one (N, 3, size, size) batch in [-1, 1] for the classifier."""
    return to_unit(torch.stack(resize_square(images, size)))


def training_crops(images: Sequence[torch.Tensor], size: int) -> ImageCrops:
    """Random crops and flips of the images resized to ``size`` plus a 1/8 margin."""
    return ImageCrops(resize_square(images, size + size // 8), size, flip=True)


def train_image_classifier(train_a: Sequence[torch.Tensor], train_b: Sequence[torch.Tensor],
                           test_a: Sequence[torch.Tensor], test_b: Sequence[torch.Tensor], size: int = DEFAULT_SIZE,
                           steps: int = 600, network: dict[str, Any] | None = None, progress: bool = True,
                           device: str = "cpu") -> DomainClassifier:
    """Train in memory on random crops/flips of the training images; accuracy is measured on the test
    images (for a score computed on the fly inside ``evaluate``)."""
    settings = ClassifierSettings(steps=steps, batch_size=16, lr=1e-3, device=device, log_every=max(steps // 5, 1))
    return train_classifier(network or DEFAULT_NETWORK, training_crops(train_a, size), training_crops(train_b, size),
                            as_batch(test_a, size), as_batch(test_b, size), settings, progress=progress)


def load_image_classifier(path: Path | str, device: str = "cpu") -> tuple[DomainClassifier, int]:
    """The classifier and the image size it was trained at."""
    classifier = DomainClassifier.load(path, device)
    size = classifier.recipe.get("image_size") or classifier.recipe.get("features", {}).get("size", DEFAULT_SIZE)
    return classifier, int(size)
