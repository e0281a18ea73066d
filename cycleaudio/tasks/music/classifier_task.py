"""The genre-classifier task: ``cycleaudio train recipes/music_classifier.yaml``.

Trains the paper's 5-conv classifier on real phrases of genre A (label 1) and B (label 0) and reports
its accuracy on held-out songs.  The checkpoint (``<out>/classifier.pt``) is what
``cycleaudio evaluate --classifier`` uses to measure transfer strength.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import torch
from ...progress import tqdm

from ...config import to_dict
from ...engine.classifier import CHECKPOINT_NAME, ClassifierTrainer
from ...engine.distributed import DistributedContext
from ..base import Task, TrainingRun
from . import nets  # noqa: F401  (registers the genre classifier network)
from .corpus import PhraseSource, to_model_input
from .domains import cache_folder, domain_files, load_domain, split_songs
from .settings import ClassifierRecipe

LOG = logging.getLogger("cycleaudio.music")


class MusicClassifierTask(Task):
    name = "music_classifier"
    recipe_class = ClassifierRecipe

    def start_training(self, recipe: Any, exp_dir: Path, device: torch.device,
                       context: DistributedContext) -> TrainingRun:
        data, train = recipe.data, recipe.train
        features = recipe.features
        features.velocity = False  # genre is judged on which notes sound, as in the paper
        cache = cache_folder(data, exp_dir)
        split: dict[str, tuple[list[Path], list[Path]]] = {}
        for key, entry, test_entry in (("a", data.a, data.test_a), ("b", data.b, data.test_b)):
            files = domain_files(entry, cache, data.builtin_songs)
            if test_entry is None:
                split[key] = split_songs(files, train.test_fraction)
            else:
                split[key] = (files, domain_files(test_entry, cache, data.builtin_songs))
        loaded = {f"{part}_{key}": load_domain(key, split[key][i], features, cache, data.workers, LOG.warning).phrases
                  for key in ("a", "b") for i, part in enumerate(("train", "test"))}
        trainer = ClassifierTrainer(recipe.model, PhraseSource(loaded["train_a"]), PhraseSource(loaded["train_b"]),
                                    to_model_input(loaded["test_a"]), to_model_input(loaded["test_b"]),
                                    train.settings(recipe.seed, device))

        def finish() -> Path:
            classifier = trainer.measured()
            target = classifier.save(exp_dir / CHECKPOINT_NAME, to_dict(recipe))
            summary = {
                "test_accuracy": classifier.accuracy, "test_accuracy_a": classifier.accuracy_a,
                "test_accuracy_b": classifier.accuracy_b,
                "phrases": {k: int(v.shape[0]) for k, v in loaded.items()},
                "songs": {k: [len(split[k][0]), len(split[k][1])] for k in split},
            }
            (exp_dir / "accuracy.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
            tqdm.write(f"test accuracy {classifier.accuracy:.4f} (A {classifier.accuracy_a:.4f}, "
                       f"B {classifier.accuracy_b:.4f}) on {summary['phrases']['test_a']} + "
                       f"{summary['phrases']['test_b']} held-out phrases")
            return target

        return TrainingRun(trainer, trainer.log_accuracy, finish)


TASK = MusicClassifierTask()
