"""HiFi-GAN training objectives: least-squares adversarial terms, feature matching, mel-spectrogram L1."""

from __future__ import annotations

import torch
from torch.nn import functional as F

from .nets import Judgement


def discriminator_loss(real: list[Judgement], fake: list[Judgement]) -> torch.Tensor:
    """Sum over discriminators of E[(1 - D(y))^2] + E[D(G(s))^2]."""
    return sum(torch.mean((1 - r) ** 2) + torch.mean(f**2) for (r, _), (f, _) in zip(real, fake))


def generator_adversarial_loss(fake: list[Judgement]) -> torch.Tensor:
    """Sum over discriminators of E[(1 - D(G(s)))^2]."""
    return sum(torch.mean((1 - f) ** 2) for f, _ in fake)


def feature_matching_loss(real: list[Judgement], fake: list[Judgement]) -> torch.Tensor:
    """L1 distance between the discriminators' feature maps of real and generated audio (real detached)."""
    return sum(F.l1_loss(f, r.detach()) for (_, rs), (_, fs) in zip(real, fake) for r, f in zip(rs, fs))
