"""A tensor-only task for engine tests: two Gaussian 'feature' domains with different means."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

import cycleaudio.tasks.voice.nets  # noqa: F401  (registers the small VC2 networks these tests train)
from cycleaudio.engine.data import RandomCrops
from cycleaudio.engine.trainer import TrainingData
from cycleaudio.runner import TASK_MODULES
from cycleaudio.tasks.base import CycleGANTask, cyclegan_recipe_class


@dataclass
class TensorData:
    items: int = 8
    frames: int = 64


@dataclass
class TensorFeatures:
    dim: int = 8
    crop: int = 16


class TensorTask(CycleGANTask):
    name = "tensor"
    recipe_class = cyclegan_recipe_class("TensorRecipe", TensorData, TensorFeatures)

    def prepare(self, recipe: Any, exp_dir: Path) -> TrainingData:
        g = torch.Generator().manual_seed(123)
        dim, frames = recipe.features.dim, recipe.data.frames
        a = [torch.randn(dim, frames, generator=g) + 1.0 for _ in range(recipe.data.items)]
        b = [torch.randn(dim, frames, generator=g) * 0.5 - 1.0 for _ in range(recipe.data.items)]
        stats = {"a": {"mean": torch.ones(dim)}, "b": {"mean": -torch.ones(dim)}}
        return TrainingData(RandomCrops(a, recipe.features.crop), RandomCrops(b, recipe.features.crop), stats,
                            mixed_a=None, mixed_b=None)


TASK = TensorTask()
TASK_MODULES.setdefault("tensor", __name__)


def tensor_recipe(**sections: Any) -> dict[str, Any]:
    """A tiny raw recipe mapping; ``sections`` replace whole sections."""
    raw: dict[str, Any] = {
        "task": "tensor",
        "data": {},
        "features": {"dim": 8, "crop": 16},
        "model": {
            "generator": {"name": "cyclegan_vc2", "args": {"feature_dim": 8, "channels": 8, "down_channels": 8,
                                                          "residual_channels": 8, "n_residual": 1, "up_channels": [8, 8]}},
            "discriminator": {"name": "patchgan_glu", "args": {"channels": 8, "n_down": 1, "max_channels": 16}},
        },
        "loss": {"lambda_identity": 5.0, "identity_off_step": 3, "two_step": True},
        "optim": {"g_lr": 2e-3, "d_lr": 1e-3, "schedule": {"constant": 4, "decay": 10}},
        "train": {"steps": 6, "batch_size": 2, "log_every": 2, "checkpoint_every": 3, "sample_every": 0},
    }
    raw.update(sections)
    return raw
