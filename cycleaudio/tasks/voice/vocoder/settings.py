"""The recipe of ``task: vocoder``: which recordings, which mel features, which networks, how long."""

from __future__ import annotations

from dataclasses import dataclass, field

from ....config import ComponentConfig
from ....engine.settings import check_loop_settings, check_rate
from ..mel import MelSettings


@dataclass
class VocoderData:
    """The speaker's recordings (a folder, or ``builtin:<speaker>``)."""

    folder: str = "builtin:female"
    cache_dir: str = ""
    workers: int = 0
    sample_files: int = 2


@dataclass
class VocoderFeatures(MelSettings):
    """Mel settings (must equal those of the converters it will serve) and the training segment length."""

    segment_frames: int = 32

    def validate(self) -> None:
        super().validate()
        if self.segment_frames < 2:
            raise ValueError("features.segment_frames must be at least 2")


@dataclass
class VocoderModel:
    generator: ComponentConfig = field(default_factory=lambda: ComponentConfig("hifigan"))
    discriminator: ComponentConfig = field(default_factory=lambda: ComponentConfig("mpd_msd"))


@dataclass
class VocoderLoss:
    """HiFi-GAN weights; adversarial terms join after ``adversarial_start`` steps of mel-loss warm-up."""

    lambda_mel: float = 45.0
    lambda_feature: float = 2.0
    adversarial_start: int = 0


@dataclass
class VocoderOptim:
    lr: float = 2e-4
    betas: tuple[float, float] = (0.8, 0.99)
    lr_gamma: float = 0.99999  # per-step exponential decay (0.999 per epoch of HiFi-GAN, at ~100 steps/epoch)

    def validate(self) -> None:
        check_rate("lr", self.lr)
        if not 0 < self.lr_gamma <= 1:
            raise ValueError(f"lr_gamma must be in (0, 1], got {self.lr_gamma}")


@dataclass
class VocoderTrain:
    steps: int = 200_000
    batch_size: int = 16
    device: str = "auto"
    log_every: int = 50
    sample_every: int = 5000
    checkpoint_every: int = 5000
    keep_checkpoints: int = 3
    out_dir: str = "exp/vocoder"

    def validate(self) -> None:
        check_loop_settings(self)


@dataclass
class VocoderRecipe:
    task: str
    data: VocoderData
    description: str = ""
    seed: int = 0
    features: VocoderFeatures = field(default_factory=VocoderFeatures)
    model: VocoderModel = field(default_factory=VocoderModel)
    loss: VocoderLoss = field(default_factory=VocoderLoss)
    optim: VocoderOptim = field(default_factory=VocoderOptim)
    train: VocoderTrain = field(default_factory=VocoderTrain)
