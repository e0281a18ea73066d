"""What a task (voice, music, image) provides to the shared engine and CLI.

The engine knows tensors only.  A task turns files into training tensors and statistics, turns
generator output back into files, writes samples during training, and evaluates results.  Each task
declares the dataclass its recipes must match (``recipe_class``), usually made by
:func:`cyclegan_recipe_class` from its own ``data`` and ``features`` sections.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from ..config import LossConfig, ModelConfig, OptimConfig, TrainConfig

if TYPE_CHECKING:
    import torch

    from ..engine.bundle import ModelBundle
    from ..engine.data import SampleSource
    from ..jobs import JobReport


@dataclass
class TrainingData:
    """Everything the trainer needs from a task: two (or, with mixed discriminators, four) sources and
    the per-domain statistics that must travel with every checkpoint."""

    domain_a: SampleSource
    domain_b: SampleSource
    statistics: dict[str, Any] = field(default_factory=dict)
    mixed_a: SampleSource | None = None
    mixed_b: SampleSource | None = None


def cyclegan_recipe_class(name: str, data_class: type, features_class: type) -> type:
    """The recipe dataclass of a CycleGAN task: shared sections plus the task's data and features."""
    return dataclasses.make_dataclass(
        name,
        [
            ("task", str),
            ("data", data_class),
            ("model", ModelConfig),
            ("description", str, field(default="")),
            ("seed", int, field(default=0)),
            ("features", features_class, field(default_factory=features_class)),
            ("loss", LossConfig, field(default_factory=LossConfig)),
            ("optim", OptimConfig, field(default_factory=OptimConfig)),
            ("train", TrainConfig, field(default_factory=TrainConfig)),
        ],
    )


class Task:
    """Base class of the tasks; subclasses set the class attributes and override what applies."""

    name: ClassVar[str]
    recipe_class: ClassVar[type]
    #: file suffixes (lower case, with dot) this task converts and evaluates
    suffixes: ClassVar[tuple[str, ...]] = ()

    def prepare(self, recipe: Any, exp_dir: Path) -> TrainingData:
        """Read and check the data, extract or load cached features, compute statistics."""
        raise NotImplementedError

    def write_samples(self, recipe: Any, bundle: ModelBundle, step: int, exp_dir: Path, writer: Any) -> None:
        """Convert a few examples during training into ``exp_dir/samples`` and TensorBoard."""

    def convert(self, bundle: ModelBundle, direction: str, source: Path, target: Path,
                options: dict[str, Any]) -> JobReport:
        """Convert a file or a folder (recursively, mirroring relative paths) into ``target``."""
        raise NotImplementedError

    def evaluate(self, converted: Path, reference: Path, source: Path | None, options: dict[str, Any]) -> dict[str, Any]:
        """Objective metrics of converted files against references; returns a JSON-ready mapping."""
        raise NotImplementedError

    def format_evaluation(self, result: dict[str, Any]) -> str:
        """A readable table of :meth:`evaluate`'s result."""
        raise NotImplementedError

    def train(self, recipe: Any, exp_dir: Path, resume: bool, progress: bool) -> Path:
        """Train a model from ``recipe``; CycleGAN tasks use the shared trainer."""
        from ..engine.trainer import train_cyclegan

        return train_cyclegan(self, recipe, exp_dir, resume=resume, progress=progress)


def generator_input_device(bundle: ModelBundle) -> torch.device:
    return next(bundle.g_ab.parameters()).device
