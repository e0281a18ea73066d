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

from ....bundle import pick_device
from ....engine.checkpoint import save_training_checkpoint
from ....engine.monitor import TrainingMonitor
from ....engine.trainer import check_exp_dir, run_steps, write_resolved_recipe
from ....errors import CycleAudioError
from ...base import Task
from .. import BUILTIN_PREFIX, domain_folder, warn
from ..audio import read_audio, write_audio
from ..features import audio_files, default_cache_dir
from ..mel import MelAnalyzer, MelSettings, extract_mels, mel_settings
from .data import WaveMelSegments
from .neural import NeuralVocoder, read_vocoder_checkpoint
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

    def train(self, recipe: Any, exp_dir: Path, resume: bool, progress: bool) -> Path:
        check_exp_dir(exp_dir, resume)
        exp_dir.mkdir(parents=True, exist_ok=True)
        device = pick_device(recipe.train.device)
        settings = mel_settings(recipe.features)
        trainer = VocoderTrainer(recipe, settings, load_segments(recipe, settings, device), device)
        if resume:
            trainer.load_state_dict(read_vocoder_checkpoint(exp_dir, map_location=device)[1])
        write_resolved_recipe(recipe, exp_dir)
        cfg = recipe.train
        monitor = TrainingMonitor(exp_dir, cfg.steps, trainer.step, progress)
        monitor.log_text(f"training vocoder on {device} for {cfg.steps} steps (from step {trainer.step}), "
                         f"batch {cfg.batch_size}, {len(trainer.data)} recordings")

        def checkpoint() -> Path:
            return save_training_checkpoint(trainer.state_dict(), exp_dir / "checkpoints", trainer.step, cfg.keep_checkpoints)

        return run_steps(trainer, cfg.steps, cfg, monitor, checkpoint,
                         lambda: write_copy_synthesis(recipe, trainer, exp_dir, monitor.writer))

    def prepare(self, recipe: Any, exp_dir: Path) -> Any:
        raise CycleAudioError("a vocoder has one speaker, not two domains: `cycleaudio train` extracts and caches "
                              "its features")

    def convert(self, bundle: Any, direction: str, source: Path, target: Path, options: dict[str, Any]) -> Any:
        raise CycleAudioError("a vocoder is not a conversion model; pass it as cycleaudio convert --vocoder")


TASK = VocoderTask()
