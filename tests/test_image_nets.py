"""Image networks: shapes, receptive field, initialisations, registration and pool semantics."""

from __future__ import annotations

import pytest
import torch

from cycleaudio.tasks.image.artifacts import lattice_energy_share
from cycleaudio.tasks.image.nets import Blur, init_weights, upsampling
from cycleaudio.engine.pool import HistoryPool
from cycleaudio.errors import RecipeError
from cycleaudio.registry import CLASSIFIERS, DISCRIMINATORS, GENERATORS


@pytest.mark.parametrize("blocks", [6, 9])
def test_resnet_generator_keeps_shape_and_range(blocks: int) -> None:
    g = GENERATORS.build("resnet_image", {"channels": 4, "n_blocks": blocks})
    x = torch.rand(2, 3, 32, 24) * 2 - 1
    y = g(x)
    assert y.shape == x.shape and y.abs().max() <= 1
    assert sum(isinstance(m, torch.nn.ReflectionPad2d) for m in g.modules()) == 2 + 2 * blocks
    assert not any(m.affine for m in g.modules() if isinstance(m, torch.nn.InstanceNorm2d))


def test_full_resnet_has_the_reference_size() -> None:
    g = GENERATORS.build("resnet_image", {"n_blocks": 9})
    assert sum(p.numel() for p in g.parameters()) == 11_378_179


def test_unet_generator_and_its_size_multiple() -> None:
    g = GENERATORS.build("unet_image", {"channels": 4, "n_down": 5, "dropout": 0.5})
    assert g.size_multiple == 32
    x = torch.rand(1, 3, 64, 32) * 2 - 1
    assert g(x).shape == x.shape
    with pytest.raises(RecipeError, match="n_down"):
        GENERATORS.build("unet_image", {"n_down": 1})


def test_patchgan_is_70px_with_three_layers() -> None:
    d = DISCRIMINATORS.build("patchgan_image", {"channels": 4, "n_layers": 3})
    assert d(torch.zeros(1, 3, 256, 256)).shape == (1, 1, 30, 30)
    # without the (global) instance norms, one score depends on exactly a 70 x 70 input window
    for index, layer in enumerate(d.net):
        if isinstance(layer, torch.nn.GroupNorm):
            d.net[index] = torch.nn.Identity()
    x = torch.zeros(1, 3, 140, 140, requires_grad=True)
    d(x)[0, 0, 5, 5].backward()
    rows = x.grad.abs().sum(dim=(0, 1, 3)).nonzero()
    assert int(rows.max() - rows.min() + 1) == 70


@pytest.mark.parametrize("init", ["normal", "xavier", "kaiming", "orthogonal"])
def test_initialisations(init: str) -> None:
    torch.manual_seed(0)
    g = GENERATORS.build("resnet_image", {"channels": 8, "n_blocks": 1, "init": init, "init_gain": 0.02})
    conv = g.net[1].requires_grad_(False)
    assert torch.all(conv.bias == 0)
    if init == "normal":
        assert abs(float(conv.weight.std()) - 0.02) < 0.005
    if init == "kaiming":
        assert float(conv.weight.std()) > 0.05


def test_unknown_init_is_a_recipe_error() -> None:
    with pytest.raises(RecipeError, match="init must be one of"):
        DISCRIMINATORS.build("patchgan_image", {"init": "uniformish"})
    with pytest.raises(ValueError):
        init_weights(torch.nn.Conv2d(1, 1, 1), "nope")


def test_classifier_gives_one_logit_per_image_at_any_size() -> None:
    c = CLASSIFIERS.build("image_cnn", {"channels": 4})
    assert c(torch.zeros(3, 3, 64, 48)).shape == (3, 1)
    assert c(torch.zeros(2, 3, 128, 128)).shape == (2, 1)


def test_history_pool_semantics() -> None:
    pool = HistoryPool(3, seed=0)
    first = [torch.full((1, 2), float(i)) for i in range(3)]
    for item in first:  # filling: the new fake comes back unchanged
        assert torch.equal(pool.query(item), item)
    seen_old = seen_new = False
    for i in range(3, 40):
        new = torch.full((1, 2), float(i))
        out = pool.query(new)
        seen_new |= torch.equal(out, new)
        seen_old |= float(out[0, 0]) < i
        assert len(pool.items) == 3
    assert seen_new and seen_old  # half of the time an older fake is swapped out and returned
    assert torch.equal(HistoryPool(0).query(first[0]), first[0])


def _smooth_image(size: int = 64) -> torch.Tensor:
    """A (1, 3, size, size) image of slow gradients: no energy at the stride-2 frequencies to inherit."""
    yy, xx = torch.meshgrid(torch.linspace(-1, 1, size), torch.linspace(-1, 1, size), indexing="ij")
    return torch.stack([0.8 * xx, 0.8 * yy, 0.5 * xx * yy])[None]


@pytest.mark.parametrize("name, args", [("resnet_image", {"channels": 8, "n_blocks": 2}),
                                        ("unet_image", {"channels": 8, "n_down": 4})])
def test_resize_conv_upsampling_has_no_checkerboard(name: str, args: dict) -> None:
    x = _smooth_image()
    shares = {}
    for upsample in ("transposed", "resize_conv"):
        torch.manual_seed(0)
        g = GENERATORS.build(name, {**args, "upsample": upsample}).eval()
        with torch.no_grad():
            y = g(x)
        assert y.shape == x.shape and y.abs().max() <= 1
        shares[upsample] = lattice_energy_share(y[0])
    # untrained transposed convs paint a strong stride-2 pattern (measured share about 0.3); resize-conv
    # stays near the smooth input's share (about 0.001)
    assert shares["transposed"] > 0.1
    assert shares["resize_conv"] < shares["transposed"] / 20


def test_resize_conv_keeps_odd_sizes_and_rejects_unknown_modes() -> None:
    g = GENERATORS.build("resnet_image", {"channels": 4, "n_blocks": 1, "upsample": "resize_conv"})
    assert g(torch.zeros(1, 3, 36, 20)).shape == (1, 3, 36, 20)
    assert not any(isinstance(m, torch.nn.ConvTranspose2d) for m in g.modules())
    with pytest.raises(RecipeError, match="upsample"):
        GENERATORS.build("resnet_image", {"upsample": "pixel_shuffle"})


def test_blur_resize_conv_stops_a_half_resolution_texture_from_reaching_the_output() -> None:
    # a period-2 texture at the layer's input becomes a period-4 lattice after plain resize-conv
    texture = torch.tensor([[1.0, -1.0], [-1.0, 1.0]]).repeat(16, 16).expand(1, 3, 32, 32) + _smooth_image(32)
    shares = {}
    for upsample in ("resize_conv", "blur_resize_conv"):
        torch.manual_seed(0)
        layer = upsampling(3, 3, upsample, 3).eval()
        with torch.no_grad():
            y = layer(texture)
        assert y.shape == (1, 3, 64, 64)
        shares[upsample] = lattice_energy_share(y[0], period=4)
    assert shares["resize_conv"] > 0.3
    assert shares["blur_resize_conv"] < shares["resize_conv"] / 100


def test_blur_resize_conv_builds_both_generators_at_their_smallest_maps() -> None:
    resnet = GENERATORS.build("resnet_image", {"channels": 4, "n_blocks": 1, "upsample": "blur_resize_conv"})
    assert resnet(torch.zeros(1, 3, 36, 20)).shape == (1, 3, 36, 20)
    unet = GENERATORS.build("unet_image", {"channels": 4, "n_down": 4, "upsample": "blur_resize_conv"})
    assert unet(torch.zeros(1, 3, 16, 16)).shape == (1, 3, 16, 16)  # its innermost map is 1 px
    assert "kernel" not in "".join(resnet.state_dict())  # the fixed blur is not a weight


def _blurred_stages(generator: torch.nn.Module) -> list[bool]:
    """For each x2 upsampling layer of a generator, from the input side: does a ``Blur`` precede it?"""
    stages = [m for m in generator.modules() if isinstance(m, torch.nn.Sequential)
              and any(isinstance(child, torch.nn.Upsample) for child in m.children())]
    return [isinstance(stage[0], Blur) for stage in stages]


def test_last_blur_resize_conv_blurs_only_before_the_last_upsampling() -> None:
    resnet = GENERATORS.build("resnet_image", {"channels": 4, "n_blocks": 1, "upsample": "last_blur_resize_conv"})
    assert _blurred_stages(resnet) == [False, True]
    assert resnet(torch.zeros(1, 3, 36, 20)).shape == (1, 3, 36, 20)
    unet = GENERATORS.build("unet_image", {"channels": 4, "n_down": 4, "upsample": "last_blur_resize_conv"})
    assert _blurred_stages(unet) == [False, False, False, True]
    assert unet(torch.zeros(1, 3, 16, 16)).shape == (1, 3, 16, 16)
    every = GENERATORS.build("resnet_image", {"channels": 4, "n_blocks": 1, "upsample": "blur_resize_conv"})
    assert _blurred_stages(every) == [True, True]
