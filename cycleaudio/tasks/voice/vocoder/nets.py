"""Neural vocoder networks (HiFi-GAN design): log-mel -> waveform generator, multi-period and multi-scale
discriminators.  Tensors only; the voice task supplies the features and trains them.

Why this design: HiFi-GAN (Kong et al. 2020) is the proven non-autoregressive vocoder that trains from
a single speaker's recordings in hours on one GPU and synthesises many times faster than real time on
a CPU.  Its generator upsamples the mel frames with transposed convolutions, each followed by a
multi-receptive-field fusion of dilated residual blocks.  The multi-period discriminator looks at the
signal folded by several prime periods (periodic structure of voiced speech); the multi-scale
discriminator at the signal and its average-pooled versions (long-range structure).
"""

from __future__ import annotations

import math
from typing import Sequence

import torch
from torch import nn
from torch.nn import functional as F
from torch.nn.utils.parametrizations import spectral_norm, weight_norm

from ....registry import DISCRIMINATORS, GENERATORS


SLOPE = 0.1  # leaky ReLU slope throughout, as in HiFi-GAN

#: one discriminator's verdict: (scores, feature maps of every layer, for the feature-matching loss)
Judgement = tuple[torch.Tensor, list[torch.Tensor]]


class DilatedResidualBlock(nn.Module):
    """x + conv(lrelu(dilated conv(lrelu(x)))) for each dilation: a receptive field of one kernel size."""

    def __init__(self, channels: int, kernel_size: int, dilations: Sequence[int]) -> None:
        super().__init__()
        self.dilated = nn.ModuleList(
            weight_norm(nn.Conv1d(channels, channels, kernel_size, dilation=d, padding=d * (kernel_size - 1) // 2))
            for d in dilations)
        self.plain = nn.ModuleList(
            weight_norm(nn.Conv1d(channels, channels, kernel_size, padding=(kernel_size - 1) // 2))
            for _ in dilations)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for dilated, plain in zip(self.dilated, self.plain):
            x = x + plain(F.leaky_relu(dilated(F.leaky_relu(x, SLOPE)), SLOPE))
        return x


@GENERATORS.register("hifigan")
class HiFiGANGenerator(nn.Module):
    """(B, n_mels, T) log-mel -> (B, T * prod(upsample_rates)) waveform in [-1, 1]."""

    def __init__(
        self,
        n_mels: int = 80,
        channels: int = 256,
        upsample_rates: Sequence[int] = (8, 8, 2, 2),
        upsample_kernels: Sequence[int] = (16, 16, 4, 4),
        resblock_kernels: Sequence[int] = (3, 7, 11),
        resblock_dilations: Sequence[Sequence[int]] = ((1, 3, 5), (1, 3, 5), (1, 3, 5)),
    ) -> None:
        super().__init__()
        if len(upsample_rates) != len(upsample_kernels):
            raise ValueError("upsample_rates and upsample_kernels must have the same length")
        if any((k - r) % 2 or k < r for r, k in zip(upsample_rates, upsample_kernels)):
            raise ValueError("each upsample kernel must be at least its rate, and differ from it by an even number")
        if channels % 2 ** len(upsample_rates):
            raise ValueError(f"channels must be divisible by 2**{len(upsample_rates)}")
        self.hop_length = math.prod(upsample_rates)
        self.pre = weight_norm(nn.Conv1d(n_mels, channels, 7, padding=3))
        self.ups = nn.ModuleList()
        self.fusions = nn.ModuleList()
        width = channels
        for rate, kernel in zip(upsample_rates, upsample_kernels):
            self.ups.append(weight_norm(nn.ConvTranspose1d(width, width // 2, kernel, rate, padding=(kernel - rate) // 2)))
            width //= 2
            self.fusions.append(nn.ModuleList(
                DilatedResidualBlock(width, k, d) for k, d in zip(resblock_kernels, resblock_dilations)))
        self.post = weight_norm(nn.Conv1d(width, 1, 7, padding=3))

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        x = self.pre(mel)
        for up, fusion in zip(self.ups, self.fusions):
            x = up(F.leaky_relu(x, SLOPE))
            x = sum(block(x) for block in fusion) / len(fusion)
        return torch.tanh(self.post(F.leaky_relu(x))).squeeze(1)


def _judge(convs: nn.ModuleList, post: nn.Module, x: torch.Tensor) -> Judgement:
    """Run a discriminator's conv stack, keeping every layer's activation for the feature-matching loss."""
    features = []
    for conv in convs:
        x = F.leaky_relu(conv(x), SLOPE)
        features.append(x)
    x = post(x)
    features.append(x)
    return x.flatten(1), features


class PeriodDiscriminator(nn.Module):
    """2-D convolutions over the waveform folded into rows of ``period`` samples."""

    def __init__(self, period: int, channels: int, max_channels: int) -> None:
        super().__init__()
        self.period = period
        widths = [1] + [min(channels * 4**i, max_channels) for i in range(4)] + [min(channels * 32, max_channels)]
        self.convs = nn.ModuleList(
            weight_norm(nn.Conv2d(widths[i], widths[i + 1], (5, 1), (3 if i < 4 else 1, 1), padding=(2, 0)))
            for i in range(5))
        self.post = weight_norm(nn.Conv2d(widths[-1], 1, (3, 1), padding=(1, 0)))

    def forward(self, wave: torch.Tensor) -> Judgement:
        batch, samples = wave.shape
        pad = -samples % self.period
        x = F.pad(wave.unsqueeze(1), (0, pad), mode="reflect" if pad < samples else "constant")
        return _judge(self.convs, self.post, x.view(batch, 1, -1, self.period))


class ScaleDiscriminator(nn.Module):
    """Strided, grouped 1-D convolutions over the waveform at one time resolution."""

    def __init__(self, channels: int, max_channels: int, spectral: bool) -> None:
        super().__init__()
        norm = spectral_norm if spectral else weight_norm
        widths = [1, channels, channels, 2 * channels, 4 * channels, 8 * channels, 8 * channels, 8 * channels]
        widths = [min(w, max_channels) for w in widths]
        shapes = [(15, 1, 1), (41, 2, 4), (41, 2, 16), (41, 4, 16), (41, 4, 16), (41, 1, 16), (5, 1, 1)]
        self.convs = nn.ModuleList()
        for i, (kernel, stride, groups) in enumerate(shapes):
            groups = math.gcd(groups, math.gcd(widths[i], widths[i + 1]))
            self.convs.append(norm(nn.Conv1d(widths[i], widths[i + 1], kernel, stride, padding=kernel // 2, groups=groups)))
        self.post = norm(nn.Conv1d(widths[-1], 1, 3, padding=1))

    def forward(self, wave: torch.Tensor) -> Judgement:
        return _judge(self.convs, self.post, wave.unsqueeze(1))


@DISCRIMINATORS.register("mpd_msd")
class MultiPeriodMultiScaleDiscriminator(nn.Module):
    """HiFi-GAN's two discriminator families side by side; ``forward`` returns every member's judgement."""

    def __init__(
        self,
        periods: Sequence[int] = (2, 3, 5, 7, 11),
        period_channels: int = 32,
        scales: int = 3,
        scale_channels: int = 128,
        max_channels: int = 1024,
    ) -> None:
        super().__init__()
        self.periods = nn.ModuleList(PeriodDiscriminator(p, period_channels, max_channels) for p in periods)
        self.scales = nn.ModuleList(ScaleDiscriminator(scale_channels, max_channels, spectral=i == 0)
                                    for i in range(scales))

    def forward(self, wave: torch.Tensor) -> list[Judgement]:
        judgements = [d(wave) for d in self.periods]
        for i, d in enumerate(self.scales):
            judgements.append(d(F.avg_pool1d(wave.unsqueeze(1), 2**i, 2**i, padding=0).squeeze(1) if i else wave))
        return judgements
