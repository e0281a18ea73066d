"""Networks of symbolic music genre transfer (Brunner et al. 2018) on (batch, C, 64, 84) piano rolls.

* ``music_resnet`` generator: 7x7 conv -> two stride-2 convs -> residual blocks -> two transposed
  convs -> 7x7 conv -> sigmoid, instance norm throughout (the paper's: 64 channels, 10 blocks);
  with ``input_skip`` > 0 it predicts an edit of its input instead (see the class);
* ``music_patchgan`` discriminator: two 7x7 stride-2 convs (64, 256 channels) and a 7x7 conv to a
  one-channel patch map (16x21 for a 64x84 phrase);
* ``music_genre_cnn`` classifier: five convolutions whose kernels first span an octave, then fold the
  time axis (4, 2, 8 steps) and finally the seven octaves into one logit (P_A = sigmoid).

All accept any phrase whose time and pitch sizes are multiples of 4 (the classifier: 64 x 84).
"""

from __future__ import annotations

import torch
from torch import nn

from ...engine.blocks import instance_norm
from ...registry import CLASSIFIERS, DISCRIMINATORS, GENERATORS


def _conv_norm_act(cin: int, cout: int, kernel: int, stride: int = 1, act: nn.Module | None = None) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, kernel, stride=stride, padding=kernel // 2, bias=False),
        instance_norm(cout),
        act if act is not None else nn.ReLU(inplace=True),
    )


class _Residual(nn.Module):
    """x + IN(conv(ReLU(IN(conv(x))))), 3x3 convs with reflection padding."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3, bias=False),
            instance_norm(channels), nn.ReLU(inplace=True),
            nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3, bias=False),
            instance_norm(channels),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


@GENERATORS.register("music_resnet")
class MusicResNetGenerator(nn.Module):
    """The paper's ResNet generator; output in [0, 1] (note probability, and velocity/127 if present).

    ``input_skip`` g > 0 makes it an editor of its input: output = sigmoid(g * (2x - 1) + net(x)),
    with the last convolution starting at zero.  Training then starts from the identity (the input,
    binarised at 0.5) instead of from noise whose cheapest reconstruction is silence, so notes are
    kept unless the adversarial loss pays for changing them.  The sum and sigmoid run in float32 so
    that probabilities near 0 and 1 stay distinct under bf16 autocast.
    """

    def __init__(self, in_channels: int = 1, channels: int = 64, n_blocks: int = 10, input_skip: float = 0.0) -> None:
        super().__init__()
        if n_blocks < 0 or channels < 1:
            raise ValueError("channels must be >= 1 and n_blocks >= 0")
        if input_skip < 0:
            raise ValueError("input_skip must be >= 0 (0: no skip, the paper's generator)")
        wide = channels * 4
        self.input_skip = input_skip
        self.net = nn.Sequential(
            nn.ReflectionPad2d(3), nn.Conv2d(in_channels, channels, 7, bias=False),
            instance_norm(channels), nn.ReLU(inplace=True),
            _conv_norm_act(channels, channels * 2, 3, stride=2),
            _conv_norm_act(channels * 2, wide, 3, stride=2),
            *[_Residual(wide) for _ in range(n_blocks)],
            nn.ConvTranspose2d(wide, channels * 2, 3, stride=2, padding=1, output_padding=1, bias=False),
            instance_norm(channels * 2), nn.ReLU(inplace=True),
            nn.ConvTranspose2d(channels * 2, channels, 3, stride=2, padding=1, output_padding=1, bias=False),
            instance_norm(channels), nn.ReLU(inplace=True),
            nn.ReflectionPad2d(3), nn.Conv2d(channels, in_channels, 7),
        )
        if input_skip > 0:
            nn.init.zeros_(self.net[-1].weight)
            nn.init.zeros_(self.net[-1].bias)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """``mask`` (same shape, 1 = visible) hides parts of the input; None shows everything."""
        visible = x if mask is None else x * mask
        logits = self.net(visible)
        if self.input_skip > 0:
            logits = logits.float() + self.input_skip * (2.0 * visible.float() - 1.0)
        return torch.sigmoid(logits)


@DISCRIMINATORS.register("music_patchgan")
class MusicPatchGAN(nn.Module):
    """The paper's PatchGAN: one real/fake score per patch of the phrase."""

    def __init__(self, in_channels: int = 1, channels: int = 64, wide_channels: int = 256) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(in_channels, channels, 7, stride=2, padding=3),
            nn.LeakyReLU(0.2, inplace=True),
            _conv_norm_act(channels, wide_channels, 7, stride=2, act=nn.LeakyReLU(0.2, inplace=True)),
            nn.Conv2d(wide_channels, 1, 7, padding=3),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


@CLASSIFIERS.register("music_genre_cnn")
class MusicGenreClassifier(nn.Module):
    """The paper's 5-conv genre classifier on a 64 x 84 roll scaled to [-1, 1]; one logit (genre A)."""

    def __init__(self, in_channels: int = 1, channels: int = 64, dropout: float = 0.0) -> None:
        super().__init__()
        act = lambda: nn.LeakyReLU(0.2, inplace=True)  # noqa: E731
        self.net = nn.Sequential(
            nn.Conv2d(in_channels, channels, (1, 12), stride=(1, 12)), act(),           # 64 x 7 octaves
            nn.Conv2d(channels, channels * 2, (4, 1), stride=(4, 1), bias=False),        # 16 x 7
            instance_norm(channels * 2), act(),
            nn.Conv2d(channels * 2, channels * 4, (2, 1), stride=(2, 1), bias=False),    # 8 x 7
            instance_norm(channels * 4), act(),
            nn.Conv2d(channels * 4, channels * 8, (8, 1), stride=(8, 1), bias=False),    # 1 x 7
            instance_norm(channels * 8), act(),
            nn.Dropout(dropout),
            nn.Conv2d(channels * 8, 1, (1, 7)),                                          # 1 x 1
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x * 2.0 - 1.0).flatten(1)
