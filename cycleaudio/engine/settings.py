"""The recipe sections the engine owns: which networks, the CycleGAN objective, optimisation, training.

Tasks add their own ``data`` and ``features`` sections around these (see ``tasks.base``).  Each section
checks its own values in ``validate`` so a bad number is a one-line error naming the recipe key.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

from ..config import ComponentConfig
from .augment import AUGMENTATIONS


def check_rate(name: str, value: float) -> None:
    """Learning rates and loss weights must be finite and not negative."""
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {value}")


def check_positive(name: str, value: int | None) -> None:
    if value is not None and value < 1:
        raise ValueError(f"{name} must be a positive whole number, got {value}")


def check_loop_settings(section: Any) -> None:
    """The step-loop fields every ``train`` section has (CycleGAN, vocoder, classifiers)."""
    for name in ("steps", "epochs", "batch_size", "log_every", "checkpoint_every"):
        check_positive(name, getattr(section, name, None))
    if section.sample_every < 0 or section.keep_checkpoints < 0:
        raise ValueError("sample_every and keep_checkpoints must be >= 0 (0 = never / keep all)")


@dataclass
class ModelConfig:
    generator: ComponentConfig
    discriminator: ComponentConfig


@dataclass
class LossConfig:
    """Weights and switches of the CycleGAN objective (see ``engine.cyclegan``)."""

    adversarial: Literal["lsgan", "nonsaturating", "hinge", "wgan_gp"] = "lsgan"
    lambda_cycle: float = 10.0
    cycle_loss: Literal["l1", "bce"] = "l1"
    bce_on_weight: float = 1.0
    lambda_identity: float = 0.0
    identity_off_step: int | None = None
    two_step: bool = False
    lambda_two_step: float = 1.0
    pool_size: int = 0
    d_input_noise: float = 0.0
    d_augment: list[str] = field(default_factory=list)
    mixed: Literal["none", "partial", "full"] = "none"
    lambda_mixed: float = 1.0
    mixed_generator_term: bool = True
    gp_weight: float = 10.0
    mask_max_frames: int = 0

    def validate(self) -> None:
        for name in ("lambda_cycle", "lambda_identity", "lambda_two_step", "d_input_noise", "lambda_mixed",
                     "gp_weight"):
            check_rate(name, getattr(self, name))
        if self.pool_size < 0 or self.mask_max_frames < 0:
            raise ValueError("pool_size and mask_max_frames must be >= 0")
        unknown = sorted(set(self.d_augment) - set(AUGMENTATIONS))
        if unknown:
            raise ValueError(f"d_augment: unknown {', '.join(unknown)} (choose from {', '.join(AUGMENTATIONS)})")
        if not (math.isfinite(self.bce_on_weight) and self.bce_on_weight > 0):
            raise ValueError("bce_on_weight must be > 0 (1: unweighted binary cross-entropy)")


@dataclass
class ScheduleConfig:
    """Learning rate held for ``constant`` units, then decayed linearly to zero over ``decay`` units."""

    unit: Literal["step", "epoch"] = "step"
    constant: int = 200_000
    decay: int = 200_000

    def validate(self) -> None:
        if self.constant < 0 or self.decay < 0:
            raise ValueError(f"constant and decay must be >= 0, got {self.constant} and {self.decay}")


@dataclass
class OptimConfig:
    g_lr: float = 2e-4
    d_lr: float = 1e-4
    betas: tuple[float, float] = (0.5, 0.999)
    schedule: ScheduleConfig = field(default_factory=ScheduleConfig)
    grad_clip: float | None = None
    fused: bool = True

    def validate(self) -> None:
        check_rate("g_lr", self.g_lr)
        check_rate("d_lr", self.d_lr)
        if not all(0.0 <= b < 1.0 for b in self.betas):
            raise ValueError(f"betas must lie in [0, 1), got {list(self.betas)}")
        if self.grad_clip is not None and not (math.isfinite(self.grad_clip) and self.grad_clip > 0):
            raise ValueError(f"grad_clip must be a finite number > 0 or null, got {self.grad_clip}")


@dataclass
class TrainConfig:
    """How long, how big and how often; ``steps`` or ``epochs`` sets the length.

    ``precision: auto`` picks bf16 autocast where it trains faster (CUDA GPUs with bf16, CPUs with AMX)
    and fp32 elsewhere, including CPUs with AVX-512 BF16 alone, where it measured slower.
    ``valid_every`` steps (0 = never) the task scores its held-out data and ``checkpoints/best.pt`` keeps
    the state with the lowest ``valid_criterion``; which criteria exist is the task's business (it checks
    the name when the recipe loads).
    ``ema_decay`` > 0 converts (and samples, validates, checkpoints for conversion) with an exponential
    moving average of the generator weights (``engine/averaging.py``); 0.999 averages over about the
    last thousand steps.
    """

    steps: int | None = None
    epochs: int | None = None
    batch_size: int = 1
    precision: Literal["fp32", "bf16", "fp16", "auto"] = "fp32"
    device: str = "auto"
    compile: bool = False
    channels_last: bool = False
    log_every: int = 50
    sample_every: int = 1000
    checkpoint_every: int = 1000
    keep_checkpoints: int = 3
    valid_every: int = 0
    valid_criterion: str = "cycle"
    ema_decay: float = 0.0
    out_dir: str = "exp/default"

    def validate(self) -> None:
        check_loop_settings(self)
        if self.valid_every < 0:
            raise ValueError(f"valid_every must be >= 0 (0 = never), got {self.valid_every}")
        if not 0.0 <= self.ema_decay < 1.0:
            raise ValueError(f"ema_decay must be in [0, 1) (0 = no averaging), got {self.ema_decay}")
