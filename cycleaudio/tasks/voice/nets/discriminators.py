"""Discriminators of the CycleGAN-VC family, registered by name for recipes."""

from __future__ import annotations

import torch
from torch import nn

from ....registry import DISCRIMINATORS
from ....engine.blocks import GatedConv


@DISCRIMINATORS.register("patchgan_glu")
class GatedPatchGAN(nn.Module):
    """CycleGAN-VC2's 2-D PatchGAN with GLU: a map of real/fake scores, one per time-frequency patch.

    Input (batch, features, frames) is treated as a one-channel image; the output is a (batch, 1, h, w)
    score map, which makes the adversarial loss local and lets any crop length be judged.
    ``condition_rows``: the input's last rows are the generators' per-frame conditions, which it drops:
    they are the source's, passed through by the generator, so judging them would only tell the two
    speakers' voicing apart, which no generator can change.
    """

    def __init__(self, channels: int = 128, n_down: int = 3, max_channels: int = 1024, in_channels: int = 1,
                 condition_rows: int = 0) -> None:
        super().__init__()
        self.condition_rows = condition_rows
        layers: list[nn.Module] = [GatedConv(2, in_channels, channels, 3, norm=False)]
        width = channels
        for _ in range(n_down):
            nxt = min(width * 2, max_channels)
            layers.append(GatedConv(2, width, nxt, 3, stride=2))
            width = nxt
        layers += [GatedConv(2, width, width, (1, 5)), nn.Conv2d(width, 1, (1, 3), padding=(0, 1))]
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.condition_rows:
            x = x[..., :-self.condition_rows, :]
        return self.net(x.unsqueeze(1) if x.dim() == 3 else x)
