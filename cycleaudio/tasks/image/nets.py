"""Image networks of the CycleGAN family (Zhu et al. 2017), registered by name for recipes.

Images are (batch, 3, height, width) tensors in [-1, 1].  Generators keep the input size and follow
the engine's one signature ``forward(x, mask=None)`` (images have no masks, so ``mask`` is ignored);
``size_multiple`` says which sizes map back exactly, so fully convolutional conversion at an image's
original size can pad to it.  Every network takes ``init``/``init_gain`` so the weight initialisation
is part of the recipe (and hence of the checkpoint), not a training-script flag.
"""

from __future__ import annotations

from typing import Callable

import torch
from torch import nn

from ...registry import CLASSIFIERS, DISCRIMINATORS, GENERATORS

_INITS: dict[str, Callable[[torch.Tensor, float], None]] = {
    "normal": lambda w, gain: nn.init.normal_(w, 0.0, gain),
    "xavier": lambda w, gain: nn.init.xavier_normal_(w, gain=gain),
    "kaiming": lambda w, gain: nn.init.kaiming_normal_(w, a=0, mode="fan_in"),
    "orthogonal": lambda w, gain: nn.init.orthogonal_(w, gain=gain),
}


def init_weights(module: nn.Module, init: str = "normal", gain: float = 0.02) -> None:
    """Initialise conv/linear weights with ``init`` (biases zero) and affine norm scales with N(1, gain).

    The small-gain normal init is what image CycleGANs are tuned for; PyTorch's default (Kaiming
    uniform) trains noticeably worse with instance norm and tanh outputs.
    """
    if init not in _INITS:
        raise ValueError(f"init must be one of {', '.join(_INITS)}, got {init!r}")
    fill = _INITS[init]
    for layer in module.modules():
        if isinstance(layer, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            fill(layer.weight, gain)
            if layer.bias is not None:
                nn.init.zeros_(layer.bias)
        elif isinstance(layer, (nn.BatchNorm2d, nn.InstanceNorm2d, nn.GroupNorm)) and layer.weight is not None:
            nn.init.normal_(layer.weight, 1.0, gain)
            nn.init.zeros_(layer.bias)


def _norm(channels: int) -> nn.Module:
    """Instance norm without affine parameters or running statistics, as the reference image CycleGAN.

    Computed as GroupNorm with one group per channel: the same statistics, a faster CPU kernel.
    """
    return nn.GroupNorm(channels, channels, affine=False)


UPSAMPLING = ("transposed", "resize_conv", "blur_resize_conv", "last_blur_resize_conv")


class Blur(nn.Module):
    """A fixed [1, 2, 1] x [1, 2, 1] / 16 blur per channel (edge-padded), no learned weights.

    Its response is exactly zero at the Nyquist frequency, so a feature map blurred by it holds no
    pattern of period 2 pixels, whatever the layers before it learned.
    """

    def __init__(self, channels: int) -> None:
        super().__init__()
        taps = torch.tensor([1.0, 2.0, 1.0])
        kernel = torch.outer(taps, taps) / 16.0
        # not persistent: a constant of the architecture, so checkpoints stay as they were
        self.register_buffer("kernel", kernel.expand(channels, 1, 3, 3).clone(), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        padded = nn.functional.pad(x, (1, 1, 1, 1), mode="replicate")  # also defined on 1 px maps
        return nn.functional.conv2d(padded, self.kernel.to(x.dtype), groups=x.shape[1])


def upsampling(in_channels: int, out_channels: int, mode: str, kernel_size: int) -> nn.Module:
    """A layer that doubles the height and width: ``transposed``, ``resize_conv`` or ``blur_resize_conv``.

    ``transposed`` is the reference's stride-2 transposed convolution with a ``kernel_size`` kernel
    (3 in the ResNet, 4 in the U-Net).  Its output pixels of even and odd positions are made by
    different subsets of the kernel's taps, so it paints a stride-2 checkerboard unless training
    happens to balance the taps, which short runs do not (Odena et al. 2016, "Deconvolution and
    checkerboard artifacts").  ``resize_conv`` (nearest-neighbour x2, then a reflect-padded 3x3
    convolution) has no such phases: nearest upsampling has no energy at the stride-2 frequencies and
    the convolution cannot add any away from the borders, so only later nonlinearities could.  It costs
    4x the multiply-adds of the transposed layer it replaces.  It does not stop the layers at half
    resolution from learning a texture of period 2 there, which the x2 stages carry out as a lattice of
    period 4 (two stages) and adversarial training can reward (``evaluate`` measures both periods,
    ``artifacts.py``).  ``blur_resize_conv`` blurs its input (``Blur``) before the ``resize_conv``,
    so no period-2 texture of the lower resolution reaches the output; the blur is a fixed depthwise
    3x3 filter, a small fraction of the convolution's cost.
    """
    if mode == "transposed":
        return nn.ConvTranspose2d(in_channels, out_channels, kernel_size, stride=2, padding=1,
                                  output_padding=kernel_size % 2)
    if mode in ("resize_conv", "blur_resize_conv"):
        resize_conv = [nn.Upsample(scale_factor=2, mode="nearest"), nn.ReflectionPad2d(1),
                       nn.Conv2d(in_channels, out_channels, 3)]
        blur = [Blur(in_channels)] if mode == "blur_resize_conv" else []
        return nn.Sequential(*blur, *resize_conv)
    raise ValueError(f"an upsampling layer is transposed, resize_conv or blur_resize_conv, got {mode!r}")


def stage_modes(mode: str, stages: int) -> list[str]:
    """The ``upsampling`` mode of each of a generator's ``stages`` x2 stages, from the input side.

    ``last_blur_resize_conv`` blurs only before the last stage, the one that reads the half-resolution
    map: the period-4 lattice of the output is a period-2 texture there, so one blur removes it, and
    the stages before it keep ``resize_conv``'s full detail (blurring them too weakened the transfer).
    Every other mode is the same at every stage.
    """
    if mode == "last_blur_resize_conv":
        return ["resize_conv"] * (stages - 1) + ["blur_resize_conv"]
    if mode not in UPSAMPLING:
        raise ValueError(f"upsample must be one of {', '.join(UPSAMPLING)}, got {mode!r}")
    return [mode] * stages


class ResidualBlock(nn.Module):
    """x + [reflect-pad, 3x3 conv, IN, ReLU, (dropout), reflect-pad, 3x3 conv, IN](x)."""

    def __init__(self, channels: int, dropout: float = 0.0) -> None:
        super().__init__()
        layers: list[nn.Module] = [nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3), _norm(channels), nn.ReLU(True)]
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        layers += [nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3), _norm(channels)]
        self.body = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


@GENERATORS.register("resnet_image")
class ResnetGenerator(nn.Module):
    """7x7 stem, two stride-2 downsamplings, ``n_blocks`` residual blocks, two x2 upsamplings
    (``upsample``: the reference's ``transposed`` convs, checkerboard-free ``resize_conv``,
    ``blur_resize_conv`` or ``last_blur_resize_conv``, see ``upsampling`` and ``stage_modes``),
    7x7 output conv and tanh.  9 blocks for 256 px crops, 6 for 128 px."""

    size_multiple = 4

    def __init__(self, in_channels: int = 3, out_channels: int = 3, channels: int = 64, n_blocks: int = 9,
                 dropout: float = 0.0, upsample: str = "transposed", init: str = "normal",
                 init_gain: float = 0.02) -> None:
        super().__init__()
        if n_blocks < 0:
            raise ValueError(f"n_blocks must be >= 0, got {n_blocks}")
        layers: list[nn.Module] = [nn.ReflectionPad2d(3), nn.Conv2d(in_channels, channels, 7), _norm(channels), nn.ReLU(True)]
        width = channels
        for _ in range(2):
            layers += [nn.Conv2d(width, width * 2, 3, stride=2, padding=1), _norm(width * 2), nn.ReLU(True)]
            width *= 2
        layers += [ResidualBlock(width, dropout) for _ in range(n_blocks)]
        for mode in stage_modes(upsample, 2):
            layers += [upsampling(width, width // 2, mode, 3), _norm(width // 2), nn.ReLU(True)]
            width //= 2
        layers += [nn.ReflectionPad2d(3), nn.Conv2d(width, out_channels, 7), nn.Tanh()]
        self.net = nn.Sequential(*layers)
        init_weights(self, init, init_gain)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


@GENERATORS.register("unet_image")
class UnetGenerator(nn.Module):
    """U-Net: ``n_down`` stride-2 4x4 convs halve the size down to 1 px at the input size 2^n_down
    (7 for 128 px, 8 for 256 px); the decoder mirrors them with x2 upsamplings (``upsample``:
    ``transposed`` 4x4 as the reference, ``resize_conv``, ``blur_resize_conv`` or ``last_blur_resize_conv``)
    and concatenates each encoder level."""

    def __init__(self, in_channels: int = 3, out_channels: int = 3, channels: int = 64, n_down: int = 8,
                 dropout: float = 0.0, upsample: str = "transposed", init: str = "normal",
                 init_gain: float = 0.02) -> None:
        super().__init__()
        if n_down < 2:
            raise ValueError(f"n_down must be >= 2, got {n_down}")
        self.size_multiple = 2**n_down
        widths = [channels * min(2**i, 8) for i in range(n_down)]
        self.downs = nn.ModuleList([nn.Conv2d(in_channels, widths[0], 4, stride=2, padding=1)])
        for i in range(1, n_down):
            innermost = i == n_down - 1
            self.downs.append(nn.Sequential(
                nn.LeakyReLU(0.2, True),
                nn.Conv2d(widths[i - 1], widths[i], 4, stride=2, padding=1),
                nn.Identity() if innermost else _norm(widths[i]),
            ))
        modes = stage_modes(upsample, n_down)
        self.ups = nn.ModuleList([self._up(widths[-1], widths[-2], 0.0, modes[0])])
        for i in range(n_down - 2, 0, -1):
            deep = widths[i - 1] == channels * 8  # the reference drops out in the 8x-wide inner levels
            self.ups.append(self._up(2 * widths[i], widths[i - 1], dropout if deep else 0.0, modes[n_down - 1 - i]))
        self.ups.append(nn.Sequential(nn.ReLU(True), upsampling(2 * widths[0], out_channels, modes[-1], 4), nn.Tanh()))
        init_weights(self, init, init_gain)

    @staticmethod
    def _up(in_ch: int, out_ch: int, dropout: float, upsample: str) -> nn.Sequential:
        layers: list[nn.Module] = [nn.ReLU(True), upsampling(in_ch, out_ch, upsample, 4), _norm(out_ch)]
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        return nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skips = []
        h = x
        for down in self.downs:
            h = down(h)
            skips.append(h)
        h = self.ups[0](skips[-1])
        for up, skip in zip(self.ups[1:], reversed(skips[:-1])):
            h = up(torch.cat([h, skip], dim=1))
        return h


@DISCRIMINATORS.register("patchgan_image")
class NLayerPatchGAN(nn.Module):
    """PatchGAN: a map of real/fake scores, one per overlapping patch (70x70 px with ``n_layers=3``).

    Judging patches instead of whole images keeps the discriminator small and focused on texture,
    which is what changes between domains such as horses and zebras.
    """

    def __init__(self, in_channels: int = 3, channels: int = 64, n_layers: int = 3, init: str = "normal",
                 init_gain: float = 0.02) -> None:
        super().__init__()
        layers: list[nn.Module] = [nn.Conv2d(in_channels, channels, 4, stride=2, padding=1), nn.LeakyReLU(0.2, True)]
        width = channels
        for n in range(1, n_layers + 1):
            nxt = channels * min(2**n, 8)
            stride = 2 if n < n_layers else 1
            layers += [nn.Conv2d(width, nxt, 4, stride=stride, padding=1), _norm(nxt), nn.LeakyReLU(0.2, True)]
            width = nxt
        layers.append(nn.Conv2d(width, 1, 4, stride=1, padding=1))
        self.net = nn.Sequential(*layers)
        init_weights(self, init, init_gain)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


@CLASSIFIERS.register("image_cnn")
class ImageDomainClassifier(nn.Module):
    """Small CNN telling domain A from B: strided conv/IN/LeakyReLU stages, global average pool, linear.

    Global pooling makes it size-agnostic, so it judges 64 px debug images and 256 px photos alike.
    Output: (batch, 1) logits of domain A, as ``engine.classifier`` expects.
    """

    def __init__(self, in_channels: int = 3, channels: int = 16, n_layers: int = 4) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        width_in = in_channels
        for n in range(n_layers):
            width = channels * min(2**n, 8)
            layers += [nn.Conv2d(width_in, width, 3, stride=2, padding=1),
                       nn.GroupNorm(1, width) if n else nn.Identity(), nn.LeakyReLU(0.2, True)]
            width_in = width
        self.features = nn.Sequential(*layers)
        self.head = nn.Linear(width_in, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x).mean(dim=(2, 3)))
