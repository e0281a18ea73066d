"""The image domain-classifier task: ``cycleaudio train image_classifier``.

Trains the small ``image_cnn`` on random crops and flips of real A (label 1) and real B (label 0)
images and reports its accuracy on held-out images.  The result (``<out>/classifier.pt``, with the image
size in its recipe) is what ``cycleaudio evaluate --classifier`` scores image transfers with.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from ...progress import tqdm

from ...config import ComponentConfig, to_dict
from ...engine.classifier import CHECKPOINT_NAME, ClassifierTrain, ClassifierTrainer
from ...engine.distributed import DistributedContext
from ..base import Task, TrainingRun
from .classify import DEFAULT_NETWORK, DEFAULT_SIZE, as_batch, training_crops
from .dataset import load_folder
from .synthetic import synthetic_domain


@dataclass
class ImageClassifierData:
    """Real images of each domain: ``root`` with trainA/ trainB/ testA/ testB/, or the four folders; with
    none of them, the built-in synthetic domains."""

    root: str | None = None
    domain_a: str | None = None
    domain_b: str | None = None
    test_a: str | None = None
    test_b: str | None = None
    builtin_train: int = 64
    builtin_test: int = 16
    builtin_size: int = 64
    workers: int = 2

    def validate(self) -> None:
        given = [self.domain_a, self.domain_b, self.test_a, self.test_b]
        if self.root is not None and any(given):
            raise ValueError("root: give data.root or the four folders, not both")
        if any(given) and not all(given):
            raise ValueError("domain_a: data.domain_a, domain_b, test_a and test_b must be given together")

    def folders(self) -> list[Path] | None:
        """trainA, trainB, testA, testB, or None for the built-in domains."""
        if self.root is not None:
            return [Path(self.root) / name for name in ("trainA", "trainB", "testA", "testB")]
        if self.domain_a is not None:
            return [Path(p) for p in (self.domain_a, self.domain_b, self.test_a, self.test_b)]
        return None


@dataclass
class ImageClassifierFeatures:
    size: int = DEFAULT_SIZE  # the classifier sees size x size images

    def validate(self) -> None:
        if self.size < 8:
            raise ValueError(f"size must be at least 8, got {self.size}")


@dataclass
class ImageClassifierTrain(ClassifierTrain):
    steps: int = 1500
    lr: float = 1e-3
    checkpoint_every: int = 500
    out_dir: str = "exp/image_classifier"


@dataclass
class ImageClassifierRecipe:
    task: str
    data: ImageClassifierData = field(default_factory=ImageClassifierData)
    model: ComponentConfig = field(default_factory=lambda: ComponentConfig(**DEFAULT_NETWORK))
    description: str = ""
    seed: int = 0
    features: ImageClassifierFeatures = field(default_factory=ImageClassifierFeatures)
    train: ImageClassifierTrain = field(default_factory=ImageClassifierTrain)


def _images(recipe: Any) -> list[list[torch.Tensor]]:
    """uint8 images of trainA, trainB, testA, testB."""
    data = recipe.data
    folders = data.folders()
    if folders is None:
        train = [synthetic_domain(d, data.builtin_train, data.builtin_size, recipe.seed) for d in ("a", "b")]
        test = [synthetic_domain(d, data.builtin_test, data.builtin_size, recipe.seed, start=data.builtin_train)
                for d in ("a", "b")]
        return train + test
    return [load_folder(folder, None, data.workers)[0] for folder in folders]


class ImageClassifierTask(Task):
    name = "image_classifier"
    recipe_class = ImageClassifierRecipe

    def start_training(self, recipe: Any, exp_dir: Path, device: torch.device,
                       context: DistributedContext) -> TrainingRun:
        train_a, train_b, test_a, test_b = _images(recipe)
        size = recipe.features.size
        trainer = ClassifierTrainer(recipe.model, training_crops(train_a, size), training_crops(train_b, size),
                                    as_batch(test_a, size), as_batch(test_b, size),
                                    recipe.train.settings(recipe.seed, device))

        def finish() -> Path:
            classifier = trainer.measured()
            target = classifier.save(exp_dir / CHECKPOINT_NAME, {**to_dict(recipe), "image_size": size})
            summary = {"test_accuracy": classifier.accuracy, "test_accuracy_a": classifier.accuracy_a,
                       "test_accuracy_b": classifier.accuracy_b,
                       "images": {"train_a": len(train_a), "train_b": len(train_b), "test_a": len(test_a),
                                  "test_b": len(test_b)}}
            (exp_dir / "accuracy.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
            tqdm.write(f"held-out accuracy {classifier.accuracy:.3f} (A {classifier.accuracy_a:.3f}, "
                       f"B {classifier.accuracy_b:.3f})")
            return target

        return TrainingRun(trainer, trainer.log_accuracy, finish)


TASK = ImageClassifierTask()
