"""What a task (voice, music, image, and the vocoder and classifier trainings) provides to the runner.

The engine knows tensors only.  A task turns its files into a training run, turns generator output
back into files, and evaluates results; the runner does everything around that (experiment folder,
resume, logging, DDP) the same way for every task.  Each task declares the dataclass its recipes must
match (``recipe_class``) and the typed options its ``convert`` and ``evaluate`` take, so a flag that
does not apply to a model's task is refused instead of silently ignored.

To add a task: a folder ``tasks/<name>/`` with a module exposing ``TASK = YourTask()``, its networks
registered on import, and one line in ``runner.TASK_MODULES``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, ClassVar

import torch

from ..engine.bundle import ModelBundle
from ..engine.distributed import DistributedContext
from ..engine.settings import LossConfig, ModelConfig, OptimConfig, TrainConfig
from ..engine.trainer import CycleGANTrainer, Trainer, TrainingData
from ..errors import CycleAudioError
from ..jobs import JobReport
from ..page import Page


@dataclass
class ConvertOptions:
    """Options every task's ``convert`` takes; tasks subclass this with their own.  ``strict``: refuse
    inputs out of the source domain (see :mod:`.domain`) instead of converting them with a warning."""

    overwrite: bool = False
    progress: bool = True
    strict: bool = False


@dataclass
class EvaluateOptions:
    """Options every task's ``evaluate`` takes; tasks subclass this with their own."""

    progress: bool = True


def option_flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def parse_options(cls: type, given: dict[str, Any], what: str) -> Any:
    """``cls`` built from ``given``; a key it does not have is a one-line error listing the ones it has."""
    known = [f.name for f in dataclasses.fields(cls)]
    unknown = sorted(set(given) - set(known))
    if unknown:
        allowed = ", ".join(option_flag(k) for k in known if k != "progress")
        raise CycleAudioError(f"{option_flag(unknown[0])} does not apply to {what} (its options: {allowed})")
    return cls(**given)


@dataclass
class ReportInputs:
    """What ``cycleaudio report`` shows of one task's results; any folder may be missing.

    ``converted``/``reference``/``source``/``baseline``/``cycled`` are the folders ``convert`` and
    ``evaluate`` use (files matched by relative path or name); ``evaluation`` is evaluate's JSON result;
    ``recipe`` is the run's resolved recipe when an experiment folder is given (its feature settings);
    ``limit`` caps the items shown per direction, so a report of a large test set stays small.
    """

    converted: Path | None = None
    reference: Path | None = None
    source: Path | None = None
    baseline: Path | None = None
    cycled: Path | None = None
    evaluation: dict[str, Any] | None = None
    recipe: Any = None
    limit: int = 8


@dataclass
class OnnxInputs:
    """How to export a task's generator to ONNX: a traced ``example``, a ``check`` input of another size
    (compared against torch after export) and the input axes left dynamic (index -> name)."""

    example: torch.Tensor
    check: torch.Tensor
    dynamic_axes: dict[int, str]


@dataclass
class TrainingRun:
    """A training the runner can drive: the trainer, plus what the task does at sample points
    (``samples(writer)``), once at the end (``finish()``, returning the file to report, if not the
    last checkpoint) and every ``valid_every`` steps (``validate()``: named scores of held-out data,
    lower is better for ``valid_criterion``, which the runner keeps the best checkpoint by; None when
    there is nothing to validate)."""

    trainer: Trainer
    samples: Callable[[Any], None] = lambda writer: None
    finish: Callable[[], Path | None] = lambda: None
    validate: Callable[[], dict[str, float] | None] = lambda: None
    valid_every: int = 0
    valid_criterion: str = ""


#: scores a CycleGAN task's validation computes from the generators (see ``CycleGANTask.validator``)
Validator = Callable[[ModelBundle], dict[str, float]]


def refuse_validation(recipe: Any) -> None:
    """The recipe check of a CycleGAN task without validation: asking for it is an error, not a no-op."""
    if recipe.train.valid_every > 0:
        raise ValueError(f"train.valid_every: the {recipe.task} task has no validation during training; set it to 0")


def cyclegan_recipe_class(name: str, data_class: type, features_class: type,
                          check: Callable[[Any], None] = refuse_validation) -> type:
    """The recipe dataclass of a CycleGAN task: the engine's sections plus the task's data and features.

    ``check(recipe)`` validates what spans sections once they are all read (the validation settings:
    ``train.valid_*`` against the task's data); it raises ValueError with the message for the user.
    """
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
        namespace={"validate": lambda self: check(self)},
    )


class Task:
    """Base class of every task; subclasses set the class attributes and override what applies."""

    name: ClassVar[str]
    recipe_class: ClassVar[type]
    #: file suffixes (lower case, with dot) this task converts and evaluates
    suffixes: ClassVar[tuple[str, ...]] = ()
    convert_options: ClassVar[type] = ConvertOptions
    evaluate_options: ClassVar[type] = EvaluateOptions
    #: whether the training runs data-parallel under torchrun
    distributed: ClassVar[bool] = False

    def start_training(self, recipe: Any, exp_dir: Path, device: torch.device,
                       context: DistributedContext) -> TrainingRun:
        """Read the data and build the trainer."""
        raise NotImplementedError

    def convert(self, bundle: ModelBundle, direction: str, source: Path, target: Path, options: Any) -> JobReport:
        """Convert a file or a folder (recursively, mirroring relative paths) into ``target``."""
        raise CycleAudioError(f"a {self.name} model does not convert files")

    def evaluate(self, converted: Path, reference: Path, source: Path | None, options: Any) -> dict[str, Any]:
        """Objective metrics of converted files against references; returns a JSON-ready mapping."""
        raise CycleAudioError(f"the {self.name} task has no evaluation")

    def format_evaluation(self, result: dict[str, Any]) -> str:
        """A readable table of :meth:`evaluate`'s result."""
        raise NotImplementedError

    def write_builtin_data(self, out: Path) -> Path:
        raise CycleAudioError(f"task {self.name!r} has no built-in data")

    def report(self, page: Page, inputs: ReportInputs) -> None:
        """Add this task's section (media of ``inputs`` and the metrics of its evaluation) to ``page``."""
        raise CycleAudioError(f"the {self.name} task has no report section")

    def converter(self, bundle: ModelBundle) -> Any:
        """An object converting in-memory inputs (arrays, MIDI, images) with ``bundle``, for notebooks."""
        raise CycleAudioError(f"a {self.name} model has no in-memory converter")


class CycleGANTask(Task):
    """A task trained as a CycleGAN between two domains: it prepares the data, the engine trains."""

    distributed = True

    def prepare(self, recipe: Any, exp_dir: Path) -> TrainingData:
        """Read and check the data, extract or load cached features, compute statistics."""
        raise NotImplementedError

    def write_samples(self, recipe: Any, bundle: ModelBundle, step: int, exp_dir: Path, writer: Any) -> None:
        """Convert a few examples during training into ``exp_dir/samples`` and TensorBoard."""

    def onnx_inputs(self, recipe: Any) -> OnnxInputs:
        """The generator inputs an ONNX export traces and checks; only the task knows their layout."""
        raise CycleAudioError(f"{self.name} models cannot be exported to ONNX")

    def validator(self, recipe: Any) -> Validator | None:
        """Read the held-out data once and return what scores the generators on it (called after
        :meth:`prepare`, only when ``train.valid_every`` > 0); None: the task has no validation."""
        return None

    def start_training(self, recipe: Any, exp_dir: Path, device: torch.device,
                       context: DistributedContext) -> TrainingRun:
        if not context.is_main:  # rank 0 extracts and caches features first; the others then read the cache
            context.barrier()
        data = self.prepare(recipe, exp_dir)
        if context.is_main:
            context.barrier()
        trainer = CycleGANTrainer(recipe, data, device, context)
        # rank 0 alone validates (it alone logs and writes checkpoints)
        validator = self.validator(recipe) if recipe.train.valid_every > 0 and context.is_main else None

        def evaluated(use: Callable[[ModelBundle], Any]) -> Any:
            """``use(bundle)`` on the converting generators (averaged or current) in eval mode without
            gradients, then back to training."""
            model = trainer.model
            g_ab, g_ba = trainer.conversion_generators()
            for module in (model, g_ab, g_ba):
                module.eval()
            try:
                with torch.no_grad():
                    return use(ModelBundle(recipe, g_ab, g_ba, data.statistics, device, step=trainer.step))
            finally:
                model.train()

        def samples(writer: Any) -> None:
            evaluated(lambda bundle: self.write_samples(recipe, bundle, trainer.step, exp_dir, writer))

        def validate() -> dict[str, float] | None:
            return evaluated(validator) if validator is not None else None

        return TrainingRun(trainer, samples, validate=validate, valid_every=recipe.train.valid_every,
                           valid_criterion=recipe.train.valid_criterion)
