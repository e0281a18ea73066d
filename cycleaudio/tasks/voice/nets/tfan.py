"""Time-frequency adaptive normalisation (TFAN, CycleGAN-VC3).

Instance normalisation removes each channel's mean and scale, and with them much of the source
speaker's time-frequency structure that the generator should keep.  TFAN puts that structure back:
the scale and shift are not learned constants but maps computed, element by element, from the source
features by a small CNN, after resizing those features to the normalised activation's size.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from ....engine.blocks import conv_nd


class TFAN(nn.Module):
    """``IN(h) * gamma(x) + beta(x)`` for 1-D (B, C, T) or 2-D (B, C, F, T) activations ``h``.

    ``x`` is the source features with ``source_channels`` channels ((B, D, T) in 1-D, (B, 1, D, T) in 2-D);
    it is resized (nearest) to ``h``'s positions, so any downsampling of ``h`` is matched.
    """

    def __init__(self, dim: int, channels: int, source_channels: int, hidden: int = 128, layers: int = 3,
                 kernel_size: int = 3) -> None:
        super().__init__()
        conv = conv_nd(dim)
        pad = kernel_size // 2
        # the same kernel as blocks.instance_norm (GroupNorm, one group per channel), without its affine:
        # the affine part is what TFAN computes from the source
        self.norm = nn.GroupNorm(channels, channels, affine=False)
        shared: list[nn.Module] = []
        for i in range(layers):
            shared += [conv(source_channels if i == 0 else hidden, hidden, kernel_size, padding=pad), nn.ReLU()]
        self.shared = nn.Sequential(*shared)
        self.gamma = conv(hidden, channels, kernel_size, padding=pad)
        self.beta = conv(hidden, channels, kernel_size, padding=pad)

    def forward(self, h: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        features = self.shared(F.interpolate(x, size=h.shape[2:], mode="nearest"))
        return self.norm(h) * self.gamma(features) + self.beta(features)


class TFANUpsample(nn.Module):
    """2-D convolution, pixel shuffle x2, TFAN, GLU: the VC2 upsampling block with TFAN for the norm."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, hidden: int, layers: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_channels, 2 * out_channels * 4, kernel_size, padding=kernel_size // 2)
        self.shuffle = nn.PixelShuffle(2)
        self.norm = TFAN(2, 2 * out_channels, 1, hidden, layers)

    def forward(self, h: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return F.glu(self.norm(self.shuffle(self.conv(h)), x), dim=1)
