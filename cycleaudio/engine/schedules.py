"""Learning-rate schedule: constant, then linear decay to zero (CycleGAN, CycleGAN-VC, music CycleGAN)."""

from __future__ import annotations

import torch


def constant_then_linear(optimizer: torch.optim.Optimizer, constant: int, decay: int,
                         steps_per_unit: int = 1) -> torch.optim.lr_scheduler.LambdaLR:
    """LR factor 1 for ``constant`` units, then linear to 0 over ``decay`` units; stepped once per step.

    ``steps_per_unit`` is 1 for a step-based schedule and the epoch length for an epoch-based one, so
    the scheduler is always stepped once per optimiser step and resumes from the step count alone.
    """

    def factor(step: int) -> float:
        unit = step // steps_per_unit
        if unit < constant:
            return 1.0
        return max(0.0, 1.0 - (unit - constant + 1) / max(decay, 1))

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
