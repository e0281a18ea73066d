"""Recipe sections of the music tasks (``data``, ``features``, and the classifier's own sections)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from ...config import ComponentConfig
from ...engine.classifier import ClassifierTrain
from ...errors import CycleAudioError
from ..base import ConvertOptions, EvaluateOptions
from .roll import RollSettings

BUILTIN_PREFIX = "builtin:"


@dataclass
class SongFolders:
    """Where the two domains' MIDI files are.

    ``a``/``b`` are folders (searched recursively for .mid/.midi) or ``builtin:classical`` /
    ``builtin:pop`` for the built-in synthetic songs (``builtin_songs`` of each).  ``cache_dir`` holds
    parsed rolls (default: ``<experiment>/cache``); ``workers`` parse in parallel (0 = one per core).
    """

    a: str = "builtin:classical"
    b: str = "builtin:pop"
    cache_dir: str | None = None
    workers: int = 0
    builtin_songs: int = 40

    def validate(self) -> None:
        if self.workers < 0:
            raise ValueError("workers must be >= 0 (0 = one per core)")
        if self.builtin_songs < 1:
            raise ValueError("builtin_songs must be >= 1")


@dataclass
class MusicData(SongFolders):
    """The CycleGAN's data; ``c`` is the extra genre of the "full" mixed discriminators (A u B u C)."""

    c: str | None = None


@dataclass
class MusicFeatures:
    """The piano-roll grid: steps per beat, phrase length, pitch range, optional velocity channel."""

    steps_per_beat: int = 4
    phrase_steps: int = 64
    lowest_pitch: int = 24
    pitches: int = 84
    velocity: bool = False

    def validate(self) -> None:
        if self.steps_per_beat < 1 or self.phrase_steps < 4 or self.phrase_steps % 4:
            raise ValueError("steps_per_beat must be >= 1 and phrase_steps a multiple of 4")
        if self.pitches < 4 or self.pitches % 4 or not 0 <= self.lowest_pitch <= 128 - self.pitches:
            raise ValueError("pitches must be a multiple of 4 and the range must fit in MIDI 0-127")

    def roll_settings(self) -> RollSettings:
        return RollSettings(self.steps_per_beat, self.lowest_pitch, self.pitches, self.velocity)


@dataclass
class TransferFeatures(MusicFeatures):
    """The CycleGAN's grid, plus how its note probabilities become notes when songs are converted
    (the defaults of ``convert --binarize`` and ``--threshold``; see ``transfer.Binarisation``)."""

    binarize: Literal["threshold", "density"] = "threshold"
    threshold: float = 0.5

    def validate(self) -> None:
        super().validate()
        if not 0.0 < self.threshold < 1.0:
            raise ValueError("threshold must be between 0 and 1")


@dataclass
class GenreClassifierTrain(ClassifierTrain):
    """How the genre classifier is trained, where it is written, and the share of songs held out."""

    steps: int = 3000
    test_fraction: float = 0.1
    out_dir: str = "exp/music_classifier"

    def validate(self) -> None:
        super().validate()
        if not 0.0 < self.test_fraction < 1.0:
            raise ValueError("test_fraction must be between 0 and 1")


@dataclass
class ClassifierData(SongFolders):
    """The classifier's data: training folders, and optional separate test folders.

    Without ``test_a``/``test_b``, ``train.test_fraction`` of the songs of each domain (chosen by a
    hash of their path, so the split is stable) are held out for the test accuracy.
    """

    test_a: str | None = None
    test_b: str | None = None


@dataclass
class ClassifierRecipe:
    task: str
    data: ClassifierData
    model: ComponentConfig = field(default_factory=lambda: ComponentConfig("music_genre_cnn"))
    description: str = ""
    seed: int = 0
    features: MusicFeatures = field(default_factory=MusicFeatures)
    train: GenreClassifierTrain = field(default_factory=GenreClassifierTrain)


@dataclass
class MusicConvertOptions(ConvertOptions):
    """``binarize`` (threshold or density) and ``threshold``: how note probabilities become notes (default:
    the recipe's ``features``); ``instrument``: General MIDI program of the output track; ``render``: also
    write a WAV preview."""

    binarize: str | None = None
    threshold: float | None = None
    instrument: int = 0
    render: bool = False

    def __post_init__(self) -> None:
        if self.threshold is not None and not 0.0 < self.threshold < 1.0:
            raise CycleAudioError(f"--threshold must be between 0 and 1, got {self.threshold}")
        if not 0 <= self.instrument <= 127:
            raise CycleAudioError(f"--instrument must be a General MIDI program 0-127, got {self.instrument}")


@dataclass
class MusicEvaluateOptions(EvaluateOptions):
    """``classifier``: genre-classifier checkpoint (for transfer strength); ``cycled``: cycled-back songs."""

    classifier: str | None = None
    cycled: str | None = None
