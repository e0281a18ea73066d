"""Small generated speech sets for the voice tests (no files from outside the test run)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from cycleaudio.tasks.voice.audio import write_audio
from cycleaudio.tasks.voice.synthetic import SAMPLE_RATE, SPEAKERS, synthesize_utterance


def write_speaker(folder: Path, speaker: str, sentence_ids: range | list[int], take: int = 0) -> list[Path]:
    paths = []
    for sid in sentence_ids:
        path = folder / f"s{sid:04d}.wav"
        write_audio(path, synthesize_utterance(SPEAKERS[speaker], sid, take), SAMPLE_RATE)
        paths.append(path)
    return paths


def write_training_pair(root: Path) -> None:
    """Two non-parallel training folders, ``root/male`` and ``root/female``, for the tiny voice runs."""
    write_speaker(root / "male", "male", [1, 3])
    write_speaker(root / "female", "female", [2, 4])


def tone(seconds: float, rate: int = SAMPLE_RATE) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return 0.3 * np.sin(2 * np.pi * 150 * t)
