"""Adversarial objectives, chosen by name in ``loss.adversarial``.

Each objective gives the discriminator loss from scores on real and fake inputs and the generator loss
from scores on fakes.  Discriminator losses average the real and fake terms, so the discriminator's
effective learning rate does not depend on the objective chosen.
"""

from __future__ import annotations

from typing import Callable

import torch
from torch.nn import functional as F


class AdversarialLoss:
    """Interface: ``discriminator(real_scores, fake_scores)`` and ``generator(fake_scores)``."""

    def discriminator(self, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def generator(self, fake: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError


class LeastSquares(AdversarialLoss):
    """LSGAN (Mao et al.): real -> 1, fake -> 0, squared error."""

    def discriminator(self, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
        return 0.5 * (torch.mean((real - 1) ** 2) + torch.mean(fake**2))

    def generator(self, fake: torch.Tensor) -> torch.Tensor:
        return torch.mean((fake - 1) ** 2)


class NonSaturating(AdversarialLoss):
    """The original GAN loss with the non-saturating generator term, on logits."""

    def discriminator(self, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
        return 0.5 * (
            F.binary_cross_entropy_with_logits(real, torch.ones_like(real))
            + F.binary_cross_entropy_with_logits(fake, torch.zeros_like(fake))
        )

    def generator(self, fake: torch.Tensor) -> torch.Tensor:
        return F.binary_cross_entropy_with_logits(fake, torch.ones_like(fake))


class Hinge(AdversarialLoss):
    """Hinge loss (Lim & Ye; used by SAGAN/BigGAN)."""

    def discriminator(self, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
        return 0.5 * (torch.relu(1 - real).mean() + torch.relu(1 + fake).mean())

    def generator(self, fake: torch.Tensor) -> torch.Tensor:
        return -fake.mean()


class Wasserstein(AdversarialLoss):
    """WGAN critic loss; the gradient penalty is added by the model, which owns the critic."""

    needs_gradient_penalty = True

    def discriminator(self, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
        return fake.mean() - real.mean()

    def generator(self, fake: torch.Tensor) -> torch.Tensor:
        return -fake.mean()


ADVERSARIAL_LOSSES: dict[str, Callable[[], AdversarialLoss]] = {
    "lsgan": LeastSquares,
    "nonsaturating": NonSaturating,
    "hinge": Hinge,
    "wgan_gp": Wasserstein,
}


def gradient_penalty(critic: Callable[[torch.Tensor], torch.Tensor], real: torch.Tensor, fake: torch.Tensor,
                     alpha: torch.Tensor) -> torch.Tensor:
    """WGAN-GP penalty (Gulrajani et al.): (||grad critic(x_hat)|| - 1)^2 on interpolates with weights ``alpha``."""
    mixed = (alpha * real + (1 - alpha) * fake).requires_grad_(True)
    scores = critic(mixed)
    (grad,) = torch.autograd.grad(scores.sum(), mixed, create_graph=True)
    return ((grad.flatten(1).norm(dim=1) - 1) ** 2).mean()
