"""The recipe of ``task: vocoder``: which recordings, which mel features, which networks, how long."""

from __future__ import annotations

from dataclasses import dataclass, field

from ....config import ComponentConfig
from ..mel import check_mel_section


@dataclass
class VocoderData:
    """The speaker's recordings (a folder, or ``builtin:<speaker>``)."""

    folder: str = "builtin:female"
    cache_dir: str = ""
    workers: int = 0
    sample_files: int = 2


@dataclass
class VocoderFeatures:
    """Mel settings (must equal those of the converters it will serve) and the training segment length."""

    sample_rate: int = 22050
    n_fft: int = 1024
    hop_length: int = 256
    n_mels: int = 80
    fmin: float = 0.0
    fmax: float | None = None
    segment_frames: int = 32

    def validate(self) -> None:
        check_mel_section(self)
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
