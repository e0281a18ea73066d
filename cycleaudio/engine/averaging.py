"""An exponential moving average of a network's weights, the copy that converts when ``train.ema_decay`` is set.

GAN generators oscillate from step to step: the adversarial game never settles, so two checkpoints a
few hundred steps apart convert audibly differently and score differently.  The running average of
the weights sits in the middle of that oscillation; it is the standard cure (it costs one copy of the
generators and one fused in-place update per step) and it is what conversion, samples and validation
use when enabled, while the optimiser keeps training the raw weights.
"""

from __future__ import annotations

import copy

import torch
from torch import nn


class WeightAverage:
    """``average = d * average + (1 - d) * weights`` after every step, ``d = min(decay, (1 + n) / (10 + n))``
    after ``n`` earlier steps; buffers are copied.

    The ramp keeps the first steps from being averaged with the random initial weights for thousands of
    steps: after step ``n`` the initial weights weigh less than ``10 / (10 + n)``."""

    def __init__(self, module: nn.Module, decay: float) -> None:
        if not 0.0 < decay < 1.0:
            raise ValueError(f"ema decay must be in (0, 1), got {decay}")
        self.decay = decay
        self.module = copy.deepcopy(module).requires_grad_(False)

    def decay_at(self, step: int) -> float:
        """The weight of the old average in the update after ``step`` earlier steps."""
        return min(self.decay, (1.0 + step) / (10.0 + step))

    @torch.no_grad()
    def update(self, module: nn.Module, step: int) -> None:
        """Move the average towards ``module``'s weights after ``step`` earlier updates."""
        averaged = list(self.module.parameters())
        torch._foreach_lerp_(averaged, [p.detach() for p in module.parameters()], 1.0 - self.decay_at(step))
        for mine, theirs in zip(self.module.buffers(), module.buffers()):
            mine.copy_(theirs)
