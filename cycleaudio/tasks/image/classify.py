"""The image domain classifier (real A vs real B) behind the transfer score.

Thin image glue around :mod:`cycleaudio.engine.classifier`: images are resized to ``size`` squared
(plus 1/8 margin for random crops and flips while training), the network is ``image_cnn`` from
``engine.image_nets``, and the resolution travels in the checkpoint's recipe so evaluation resizes
exactly as training did.  Run as a module to train one from two folders::

    python -m cycleaudio.tasks.image.classify trainA trainB --test-a testA --test-b testB --out clf.pt
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, Sequence

import torch

from ...engine.classifier import ClassifierSettings, DomainClassifier, train_classifier
from ...errors import CycleAudioError
from .dataset import ImageCrops, load_folder, resize_square
from .io import to_unit

DEFAULT_SIZE = 128
DEFAULT_NETWORK = {"name": "image_cnn", "args": {"channels": 16, "n_layers": 5}}


def as_batch(images: Sequence[torch.Tensor], size: int) -> torch.Tensor:
    """uint8 images of any sizes -> one (N, 3, size, size) batch in [-1, 1] for the classifier."""
    return to_unit(torch.stack(resize_square(images, size)))


def train_image_classifier(train_a: Sequence[torch.Tensor], train_b: Sequence[torch.Tensor],
                           test_a: Sequence[torch.Tensor], test_b: Sequence[torch.Tensor], size: int = DEFAULT_SIZE,
                           steps: int = 600, network: dict[str, Any] | None = None, progress: bool = True,
                           device: str = "cpu") -> DomainClassifier:
    """Train on random crops/flips of the training images; accuracy is measured on the test images."""
    margin = size + size // 8
    sources = [ImageCrops(resize_square(images, margin), size, flip=True) for images in (train_a, train_b)]
    settings = ClassifierSettings(steps=steps, batch_size=16, lr=1e-3, device=device, log_every=max(steps // 5, 1))
    return train_classifier(network or DEFAULT_NETWORK, sources[0], sources[1], as_batch(test_a, size),
                            as_batch(test_b, size), settings, progress=progress)


def save_image_classifier(classifier: DomainClassifier, path: Path, size: int) -> Path:
    return classifier.save(path, recipe={"task": "image", "image_size": size})


def load_image_classifier(path: Path | str, device: str = "cpu") -> tuple[DomainClassifier, int]:
    """The classifier and the image size it was trained at."""
    classifier = DomainClassifier.load(path, device)
    file = Path(path) / "classifier.pt" if Path(path).is_dir() else Path(path)
    recipe = torch.load(file, map_location="cpu", weights_only=True).get("recipe") or {}
    return classifier, int(recipe.get("image_size", DEFAULT_SIZE))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cycleaudio.tasks.image.classify",
                                     description="Train an image domain classifier on folders of real A and real B images.")
    parser.add_argument("domain_a", type=Path, help="folder of real domain-A images")
    parser.add_argument("domain_b", type=Path, help="folder of real domain-B images")
    parser.add_argument("--test-a", type=Path, required=True, help="held-out domain-A images (accuracy)")
    parser.add_argument("--test-b", type=Path, required=True, help="held-out domain-B images (accuracy)")
    parser.add_argument("--out", type=Path, required=True, help="classifier checkpoint to write")
    parser.add_argument("--size", type=int, default=DEFAULT_SIZE, help="image size the classifier sees")
    parser.add_argument("--steps", type=int, default=1500, help="training steps (batch 16)")
    args = parser.parse_args(argv)
    try:
        folders = [load_folder(folder, None)[0] for folder in (args.domain_a, args.domain_b, args.test_a, args.test_b)]
        classifier = train_image_classifier(*folders, size=args.size, steps=args.steps)
        save_image_classifier(classifier, args.out, args.size)
    except CycleAudioError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"held-out accuracy {classifier.accuracy:.3f} (A {classifier.accuracy_a:.3f}, B {classifier.accuracy_b:.3f}); "
          f"written: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
