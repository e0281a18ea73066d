"""``task: vocoder``: train a neural vocoder on one speaker's recordings.

``cycleaudio train recipes/vocoder_female.yaml`` reads the folder, computes (and caches) log-mel
features, trains, and writes ``<out>/checkpoints/latest.pt``; that file is what
``cycleaudio convert --vocoder`` and a mel recipe's ``features.vocoder`` take.  Copy-synthesis samples
(recording -> mel -> vocoder) are written to ``<out>/samples`` and TensorBoard while it trains.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from ....engine.distributed import DistributedContext
from ....errors import CycleAudioError
from ...base import Task, TrainingRun
from .. import BUILTIN_PREFIX, domain_folder, warn
from ..audio import read_audio, write_audio
from ..features import audio_files, default_cache_dir
from ..mel import MelAnalyzer, MelSettings, extract_mels, mel_settings
from .data import WaveMelSegments
from .neural import NeuralVocoder
from .settings import VocoderRecipe
from .training import VocoderTrainer


def _cache(recipe: Any) -> Path:
    return Path(recipe.data.cache_dir).expanduser() if recipe.data.cache_dir else default_cache_dir()


def load_segments(recipe: Any, settings: MelSettings, device: torch.device) -> WaveMelSegments:
    """Every usable recording of the speaker as aligned (waveform, log-mel) pairs."""
    files = audio_files(domain_folder(recipe.data.folder, recipe))
    min_seconds = recipe.features.segment_frames * settings.hop_length / settings.sample_rate
    mels, failures = extract_mels(files, settings, _cache(recipe), recipe.data.workers, min_seconds, device,
                                  label="mel features")
    for path, reason in failures:
        warn(f"skipping {path}: {reason}")
    items = [(read_audio(path, settings.sample_rate).astype(np.float32), mel) for path, mel in mels]
    try:
        return WaveMelSegments(items, settings.hop_length, recipe.features.segment_frames)
    except ValueError as exc:
        raise CycleAudioError(f"{recipe.data.folder}: no usable training files ({exc})") from None


def write_copy_synthesis(recipe: Any, trainer: VocoderTrainer, exp_dir: Path, writer: Any) -> None:
    """Recording -> mel -> vocoder for the first ``sample_files`` files (the eval split of built-ins)."""
    spec = recipe.data.folder
    split = "eval" if spec.startswith(BUILTIN_PREFIX) else "train"
    settings = trainer.settings
    vocoder = NeuralVocoder(trainer.generator, settings, trainer.device)
    analyzer = MelAnalyzer(settings)
    for path in audio_files(domain_folder(spec, recipe, split))[: recipe.data.sample_files]:
        (mel,) = analyzer.batch([read_audio(path, settings.sample_rate)], trainer.device)
        wave = vocoder(mel)
        write_audio(exp_dir / "samples" / f"step_{trainer.step:07d}" / f"{path.stem}.wav", wave, settings.sample_rate)
        if writer is not None:
            peak = max(float(np.max(np.abs(wave))), 1e-9)
            writer.add_audio(f"samples/{path.stem}", torch.from_numpy(wave / peak).float().unsqueeze(0), trainer.step,
                             sample_rate=settings.sample_rate)
    trainer.generator.train()


class VocoderTask(Task):
    name = "vocoder"
    recipe_class = VocoderRecipe

    def start_training(self, recipe: Any, exp_dir: Path, device: torch.device,
                       context: DistributedContext) -> TrainingRun:
        settings = mel_settings(recipe.features)
        trainer = VocoderTrainer(recipe, settings, load_segments(recipe, settings, device), device)
        return TrainingRun(trainer, lambda writer: write_copy_synthesis(recipe, trainer, exp_dir, writer))


TASK = VocoderTask()
