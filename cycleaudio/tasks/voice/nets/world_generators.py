"""Generators of the CycleGAN-VC family, registered by name for recipes.

All generators map (batch, features, frames) to the same shape and are fully convolutional: any number
of frames that is a multiple of ``time_multiple`` converts in one pass.  ``forward(x, mask)`` is the one
signature of every generator; generators built with ``masked_input=True`` (MaskCycleGAN-VC) see
``(x * mask, mask)`` as two input channels, the others ignore ``mask``.

``residual=True`` makes a generator an editor of its input: output = visible input + net(input), with
the last convolution starting at zero.  On speaker-normalised features the identity *is* the
statistics-only conversion, so an untrained residual generator already converts as well as the
statistics, and training only has to learn what the statistics miss.

``condition_rows=k`` declares the last ``k`` input rows per-frame conditions (the source's voicing and
log-F0, see :func:`..features.condition_rows`): the generator sees them as extra input channels and
passes them through unchanged, so the cycle's second generator sees the same conditions and the
output keeps the input's shape.  They tell the generator which frames are voiced, which the envelope
alone shows it only vaguely, and voiced and unvoiced frames need different edits.
"""

from __future__ import annotations

import torch
from torch import nn

from ....registry import GENERATORS
from ....engine.blocks import GatedConv, GatedUpsample, ResidualGLU1d, instance_norm


def _masked(x: torch.Tensor, mask: torch.Tensor | None, masked_input: bool) -> torch.Tensor:
    """Stack (x*mask, mask) as channels for mask-aware generators; plain x otherwise. x: (B, D, T)."""
    if not masked_input:
        return x.unsqueeze(1)
    if mask is None:
        mask = torch.ones_like(x)
    return torch.stack((x * mask, mask), dim=1)


def _visible(x: torch.Tensor, mask: torch.Tensor | None, masked_input: bool) -> torch.Tensor:
    """What a residual generator adds its edit to: the input as the generator sees it (masked frames zero)."""
    return x * mask if masked_input and mask is not None else x


def _split_condition(x: torch.Tensor, mask: torch.Tensor | None, rows: int
                     ) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor | None]:
    """(features, their mask, condition rows or None) of an input whose last ``rows`` rows are conditions."""
    if not rows:
        return x, mask, None
    return x[:, :-rows], None if mask is None else mask[:, :-rows], x[:, -rows:]


def _pass_condition(out: torch.Tensor, condition: torch.Tensor | None) -> torch.Tensor:
    """The converted features with the input's condition rows appended unchanged."""
    return out if condition is None else torch.cat((out, condition), dim=1)


def _start_at_zero(layer: nn.Module) -> None:
    """Zero a residual generator's output layer: the untrained generator is the identity map."""
    for parameter in layer.parameters():
        nn.init.zeros_(parameter)


@GENERATORS.register("cyclegan_vc")
class GatedCNN1dGenerator(nn.Module):
    """CycleGAN-VC (2018): 1-D gated CNN, downsample x4 in time, residual GLU blocks, pixel-shuffle up."""

    time_multiple = 4

    def __init__(
        self,
        feature_dim: int = 24,
        channels: int = 128,
        residual_channels: int = 512,
        n_residual: int = 6,
        masked_input: bool = False,
        residual: bool = False,
        condition_rows: int = 0,
    ) -> None:
        super().__init__()
        self.masked_input = masked_input
        self.edits_input = residual
        self.condition_rows = condition_rows
        in_dim = feature_dim * (2 if masked_input else 1) + condition_rows
        self.net = nn.Sequential(
            GatedConv(1, in_dim, channels, 15, norm=False),
            GatedConv(1, channels, channels * 2, 5, stride=2),
            GatedConv(1, channels * 2, residual_channels, 5, stride=2),
            *[ResidualGLU1d(residual_channels) for _ in range(n_residual)],
            GatedUpsample(1, residual_channels, channels * 2, 5),
            GatedUpsample(1, channels * 2, channels, 5),
            nn.Conv1d(channels, feature_dim, 15, padding=7),
        )
        if residual:
            _start_at_zero(self.net[-1])

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        x, mask, condition = _split_condition(x, mask, self.condition_rows)
        stacked = _masked(x, mask, self.masked_input).flatten(1, 2)
        if condition is not None:
            stacked = torch.cat((stacked, condition), dim=1)
        out = self.net(stacked)
        return _pass_condition(out + _visible(x, mask, self.masked_input) if self.edits_input else out, condition)


@GENERATORS.register("cyclegan_vc2")
class TwoOneTwoDGenerator(nn.Module):
    """CycleGAN-VC2's 2-1-2D generator: 2-D down/up-sampling around 1-D residual blocks.

    2-D convolutions keep the spectral structure local while downsampling; the residual stack works in
    1-D over (channels x reduced feature bins) so it can change the whole envelope at once.
    """

    time_multiple = 4

    def __init__(
        self,
        feature_dim: int = 36,
        channels: int = 128,
        down_channels: int = 256,
        residual_channels: int = 256,
        n_residual: int = 6,
        up_channels: tuple[int, int] = (128, 64),
        masked_input: bool = False,
        residual: bool = False,
        condition_rows: int = 0,
    ) -> None:
        super().__init__()
        if feature_dim % 4:
            raise ValueError(f"feature_dim must be a multiple of 4, got {feature_dim}")
        self.masked_input = masked_input
        self.edits_input = residual
        self.condition_rows = condition_rows
        self.feature_dim = feature_dim
        reduced = down_channels * (feature_dim // 4)
        self.down = nn.Sequential(
            GatedConv(2, (2 if masked_input else 1) + condition_rows, channels, (5, 15), norm=False),
            GatedConv(2, channels, down_channels, 5, stride=2),
            GatedConv(2, down_channels, down_channels, 5, stride=2),
        )
        self.to_1d = nn.Sequential(nn.Conv1d(reduced, residual_channels, 1), instance_norm(residual_channels))
        self.residual = nn.Sequential(*[ResidualGLU1d(residual_channels) for _ in range(n_residual)])
        self.to_2d = nn.Sequential(nn.Conv1d(residual_channels, reduced, 1), instance_norm(reduced))
        self.down_channels = down_channels
        self.up = nn.Sequential(
            GatedUpsample(2, down_channels, up_channels[0], 5),
            GatedUpsample(2, up_channels[0], up_channels[1], 5),
            nn.Conv2d(up_channels[1], 1, (5, 15), padding=(2, 7)),
        )
        if residual:
            _start_at_zero(self.up[-1])

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        x, mask, condition = _split_condition(x, mask, self.condition_rows)
        stacked = _masked(x, mask, self.masked_input)
        if condition is not None:  # each condition row as a channel, the same over all feature bins
            stacked = torch.cat((stacked, condition.unsqueeze(2).expand(-1, -1, x.shape[1], -1)), dim=1)
        h = self.down(stacked)
        batch, _, bins, frames = h.shape
        h = self.to_2d(self.residual(self.to_1d(h.reshape(batch, -1, frames))))
        h = h.reshape(batch, self.down_channels, bins, frames)
        out = self.up(h).squeeze(1)
        return _pass_condition(out + _visible(x, mask, self.masked_input) if self.edits_input else out, condition)
