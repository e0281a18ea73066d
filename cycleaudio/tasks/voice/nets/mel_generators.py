"""Generators of the mel-spectrogram CycleGAN-VC variants, registered by name.

* ``mask_cyclegan_vc`` (MaskCycleGAN-VC, Kaneko et al. 2021): the CycleGAN-VC2 2-1-2D generator with the
  ``(features x mask, mask)`` two-channel input; trained with ``loss.mask_max_frames`` > 0 (filling in
  frames).  It IS ``cyclegan_vc2`` with ``masked_input=True``, so the network is not duplicated.
* ``cyclegan_vc3`` (CycleGAN-VC3, Kaneko et al. 2020): the 2-1-2D generator whose 1-D -> 2-D block and
  upsampling blocks normalise with TFAN (:mod:`.tfan`), conditioned on the source features.
"""

from __future__ import annotations

import torch
from torch import nn

from ....registry import GENERATORS
from .world_generators import TwoOneTwoDGenerator, _masked
from .tfan import TFAN, TFANUpsample


@GENERATORS.register("mask_cyclegan_vc")
def mask_cyclegan_vc(feature_dim: int = 80, channels: int = 128, down_channels: int = 256,
                     residual_channels: int = 256, n_residual: int = 6,
                     up_channels: tuple[int, int] = (128, 64)) -> TwoOneTwoDGenerator:
    """MaskCycleGAN-VC generator: the VC2 network seeing ``(x * mask, mask)``."""
    return TwoOneTwoDGenerator(feature_dim, channels, down_channels, residual_channels, n_residual,
                               tuple(up_channels), masked_input=True)


@GENERATORS.register("cyclegan_vc3")
class TFANGenerator(TwoOneTwoDGenerator):
    """CycleGAN-VC3: VC2's 2-1-2D generator with TFAN in the 1-D -> 2-D block and both upsampling blocks.

    The TFAN condition is the generator's input features as the network sees them (``x * mask`` when
    ``masked_input``), so hidden frames stay hidden.
    """

    def __init__(
        self,
        feature_dim: int = 80,
        channels: int = 128,
        down_channels: int = 256,
        residual_channels: int = 256,
        n_residual: int = 6,
        up_channels: tuple[int, int] = (128, 64),
        tfan_hidden: int = 128,
        tfan_layers: int = 3,
        masked_input: bool = False,
    ) -> None:
        super().__init__(feature_dim, channels, down_channels, residual_channels, n_residual, tuple(up_channels),
                         masked_input)
        reduced = down_channels * (feature_dim // 4)
        # replace VC2's instance-normalised 1-D -> 2-D block and upsampling with their TFAN versions
        self.to_2d = nn.Conv1d(residual_channels, reduced, 1)
        self.to_2d_norm = TFAN(1, reduced, feature_dim, tfan_hidden, tfan_layers)
        self.up = nn.ModuleList([
            TFANUpsample(down_channels, up_channels[0], 5, tfan_hidden, tfan_layers),
            TFANUpsample(up_channels[0], up_channels[1], 5, tfan_hidden, tfan_layers),
        ])
        self.out = nn.Conv2d(up_channels[1], 1, (5, 15), padding=(2, 7))

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        source = x * mask if (self.masked_input and mask is not None) else x
        h = self.down(_masked(x, mask, self.masked_input))
        batch, _, bins, frames = h.shape
        h = self.to_2d_norm(self.to_2d(self.residual(self.to_1d(h.reshape(batch, -1, frames)))), source)
        h = h.reshape(batch, self.down_channels, bins, frames)
        for block in self.up:
            h = block(h, source.unsqueeze(1))
        return self.out(h).squeeze(1)
