"""Task registry: a recipe's ``task`` name -> the module that implements it (imported on demand, so
the voice task never pays for importing the image task's dependencies and vice versa)."""

from __future__ import annotations

import importlib

from ..errors import RecipeError
from .base import Task, TrainingData, cyclegan_recipe_class

TASK_MODULES: dict[str, str] = {
    "voice": "cycleaudio.tasks.voice",
    "image": "cycleaudio.tasks.image",
    "music": "cycleaudio.tasks.music",
    "music_classifier": "cycleaudio.tasks.music.classifier_task",
    "vocoder": "cycleaudio.tasks.voice.vocoder.task",
}

_loaded: dict[str, Task] = {}


def task_names() -> list[str]:
    return sorted(TASK_MODULES)


def get_task(name: str, source: str = "<recipe>") -> Task:
    """The task object for ``name``; an unknown name is a RecipeError listing the known ones."""
    if name not in TASK_MODULES:
        raise RecipeError(f"{source}: task must be one of {', '.join(task_names())}, got {name!r}")
    if name not in _loaded:
        module = importlib.import_module(TASK_MODULES[name])
        _loaded[name] = module.TASK
    return _loaded[name]


__all__ = ["Task", "TrainingData", "cyclegan_recipe_class", "get_task", "task_names", "TASK_MODULES"]
