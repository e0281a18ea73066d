"""Image files: every Pillow mode becomes RGB, bad files are one-line errors, data sampling is exact."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from cycleaudio.errors import CycleAudioError, InputFileError
from cycleaudio.tasks.image.dataset import ImageCrops, load_folder, resize_square
from cycleaudio.tasks.image.io import read_rgb, to_uint8, to_unit
from cycleaudio.tasks.image.synthetic import synthetic_image, write_builtin_images


def _save(image: Image.Image, path: Path, **kwargs: object) -> Path:
    image.save(path, **kwargs)
    return path


def _pattern(mode: str) -> Image.Image:
    rgb = Image.fromarray(np.arange(8 * 6 * 3, dtype=np.uint8).reshape(6, 8, 3) * 2)
    if mode == "I;16":
        return Image.fromarray(np.full((6, 8), 65535, dtype=np.uint16))
    if mode == "F":
        return Image.fromarray(np.linspace(0, 2.0, 48, dtype=np.float32).reshape(6, 8))
    return rgb.convert(mode)


@pytest.mark.parametrize("mode,suffix", [("L", ".png"), ("LA", ".png"), ("P", ".png"), ("RGBA", ".png"),
                                         ("CMYK", ".jpg"), ("1", ".png"), ("I", ".tif"), ("I;16", ".png"),
                                         ("F", ".tif"), ("YCbCr", ".jpg"), ("RGB", ".webp"), ("RGB", ".jpg")])
def test_every_mode_reads_as_rgb(tmp_path: Path, mode: str, suffix: str) -> None:
    path = _save(_pattern(mode), tmp_path / f"x{suffix}")
    image = read_rgb(path)
    assert image.shape == (3, 6, 8) and image.dtype == torch.uint8


def test_wide_images_are_scaled_not_clipped(tmp_path: Path) -> None:
    assert int(read_rgb(_save(_pattern("I;16"), tmp_path / "w.png")).max()) == 255
    ramp = read_rgb(_save(_pattern("F"), tmp_path / "f.tif"))
    assert int(ramp.min()) == 0 and int(ramp.max()) == 255


def test_transparency_becomes_white(tmp_path: Path) -> None:
    clear = Image.new("RGBA", (4, 4), (10, 20, 30, 0))
    assert torch.all(read_rgb(_save(clear, tmp_path / "a.png")) == 255)
    palette = Image.new("P", (4, 4), 0)
    palette.putpalette([0, 0, 0] * 256)
    palette.info["transparency"] = 0
    assert torch.all(read_rgb(_save(palette, tmp_path / "p.png", transparency=0)) == 255)


def test_resize_on_read(tmp_path: Path) -> None:
    path = _save(_pattern("RGB"), tmp_path / "x.png")
    assert read_rgb(path, (5, 7)).shape == (3, 7, 5)


def test_bad_files_are_one_line_errors(tmp_path: Path) -> None:
    good = tmp_path / "good.jpg"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (64, 64, 3), dtype=np.uint8)).save(good)
    cases = {
        "text.png": b"not an image at all",
        "empty.jpg": b"",
        "truncated.jpg": good.read_bytes()[: len(good.read_bytes()) // 3],
    }
    for name, content in cases.items():
        (tmp_path / name).write_bytes(content)
        with pytest.raises(InputFileError) as info:
            read_rgb(tmp_path / name)
        assert name in str(info.value) and "\n" not in str(info.value)
    with pytest.raises(InputFileError, match="no such file"):
        read_rgb(tmp_path / "missing.png")


def test_load_folder_skips_bad_files_and_fails_when_empty(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    folder = tmp_path / "dom"
    folder.mkdir()
    _save(_pattern("L"), folder / "gray.png")
    (folder / "broken.jpg").write_bytes(b"garbage")
    with caplog.at_level(logging.WARNING, logger="cycleaudio.image"):
        images, paths = load_folder(folder, 12)
    assert [p.name for p in paths] == ["gray.png"] and images[0].shape == (3, 12, 12)
    assert "broken.jpg" in caplog.text
    (folder / "gray.png").unlink()
    with pytest.raises(CycleAudioError, match="none of the 1 image files"):
        load_folder(folder, 12)
    with pytest.raises(CycleAudioError, match="no such image folder"):
        load_folder(tmp_path / "nowhere", 12)


def test_crops_are_reproducible_from_the_generator() -> None:
    images = [torch.randint(0, 256, (3, 20, 24), dtype=torch.uint8) for _ in range(5)]
    source = ImageCrops(images, 16)
    a = source.sample(4, torch.Generator().manual_seed(3))
    b = source.sample(4, torch.Generator().manual_seed(3))
    assert a.shape == (4, 3, 16, 16) and torch.equal(a, b)
    assert a.min() >= -1 and a.max() <= 1
    with pytest.raises(ValueError, match="smaller than the crop"):
        ImageCrops(images, 21)


def test_flips_happen_and_only_when_asked() -> None:
    image = torch.arange(3 * 4 * 4, dtype=torch.uint8).reshape(3, 4, 4)
    g = torch.Generator().manual_seed(0)
    flipped = ImageCrops([image], 4, flip=True).sample(16, g)
    assert any(torch.equal(crop, to_unit(image.flip(-1))) for crop in flipped)
    assert all(torch.equal(crop, to_unit(image)) for crop in ImageCrops([image], 4, flip=False).sample(8, g))


def test_unit_round_trip_and_resize() -> None:
    image = torch.randint(0, 256, (3, 9, 9), dtype=torch.uint8)
    assert torch.equal(to_uint8(to_unit(image)), image)
    assert resize_square([image], 5)[0].shape == (3, 5, 5)
    assert resize_square([image], None)[0] is image


def test_synthetic_domains_are_deterministic_and_differ(tmp_path: Path) -> None:
    a, b = synthetic_image("a", 3, 32), synthetic_image("b", 3, 32)
    assert torch.equal(a, synthetic_image("a", 3, 32)) and a.shape == (3, 32, 32)
    assert not torch.equal(a, synthetic_image("a", 4, 32))
    # B is black-and-white striped: far more very dark pixels than the brown-coated A
    assert int((b.float().mean(0) < 40).sum()) > 4 * int((a.float().mean(0) < 40).sum()) + 10
    out = write_builtin_images(tmp_path / "d", train=2, test=1, size=16)
    assert sorted(p.name for p in out.iterdir()) == ["testA", "testB", "trainA", "trainB"]
    assert len(list((out / "trainB").glob("*.png"))) == 2
