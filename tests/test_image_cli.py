"""The image task end to end: recipes, CLI train -> convert -> evaluate, exact resume, bad inputs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from PIL import Image

from cycleaudio import api
from cycleaudio.cli import main
from cycleaudio.config import read_yaml
from cycleaudio.runner import load_recipe
from cycleaudio.engine.checkpoint import load_checkpoint
from cycleaudio.errors import RecipeError

from .test_image_fid import inception_stand_in

pytestmark = pytest.mark.e2e  # runs the real training and CLI entry points

RECIPES = Path(__file__).resolve().parent.parent / "recipes"
TINY = [
    "data.builtin_train=4", "data.builtin_size=16", "features.load_size=18", "features.crop_size=16",
    "features.preview=2", "model.generator.args.channels=4", "model.generator.args.n_blocks=1",
    "model.discriminator.args.channels=4", "model.discriminator.args.n_layers=1", "loss.pool_size=3",
    "optim.schedule.constant=1", "optim.schedule.decay=2", "train.epochs=2", "train.log_every=2",
    "train.sample_every=4", "train.checkpoint_every=2", "train.device=cpu",
]


def _train(tmp_path: Path, name: str, *extra: str, resume: bool = False) -> Path:
    args = ["train", str(RECIPES / "image_debug.yaml"), "--out", str(tmp_path / name), "--quiet"]
    args += ["--resume"] if resume else []
    for item in [*TINY, *extra]:
        args += ["--set", item]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    return tmp_path / name


def test_shipped_recipes_validate_and_are_fully_commented() -> None:
    full = load_recipe(RECIPES / "image_horse2zebra.yaml")
    assert (full.features.load_size, full.features.crop_size, full.model.generator.args["n_blocks"]) == (286, 256, 9)
    assert (full.loss.lambda_identity, full.loss.lambda_cycle, full.loss.pool_size) == (5.0, 10.0, 50)
    assert (full.optim.schedule.unit, full.optim.schedule.constant, full.optim.schedule.decay, full.train.epochs) == \
        ("epoch", 100, 100, 200)
    assert (full.optim.g_lr, full.optim.d_lr, full.optim.betas[0]) == (2e-4, 2e-4, 0.5)
    assert full.model.generator.args.get("upsample", "transposed") == "transposed"  # the reference's upsampling
    load_recipe(RECIPES / "image_debug.yaml")
    hour = load_recipe(RECIPES / "image_cpu_hour.yaml")
    assert (hour.features.crop_size, hour.model.generator.args["upsample"], hour.optim.schedule.unit) == \
        (128, "blur_resize_conv", "step")
    assert hour.optim.schedule.constant + hour.optim.schedule.decay == hour.train.steps
    for name in ("image_horse2zebra.yaml", "image_debug.yaml", "image_cpu_hour.yaml"):
        assert read_yaml(RECIPES / name)["description"]
        for line in (RECIPES / name).read_text().splitlines():
            assert not line.strip() or "#" in line, f"{name}: uncommented line {line!r}"


def test_recipe_errors_name_the_key() -> None:
    with pytest.raises(RecipeError, match="load_size"):
        load_recipe(RECIPES / "image_debug.yaml", ["features.load_size=10"])
    with pytest.raises(RecipeError, match="data.root"):
        load_recipe(RECIPES / "image_debug.yaml", ["data.root=x", "data.domain_a=y", "data.domain_b=z"])
    with pytest.raises(RecipeError, match="unknown key features.crop"):
        load_recipe(RECIPES / "image_debug.yaml", ["features.crop=10"])


@pytest.mark.filterwarnings("ignore::FutureWarning")  # torch.jit.script of the stand-in Inception
def test_train_convert_evaluate_on_generated_images(tmp_path: Path) -> None:
    exp = _train(tmp_path, "exp")
    assert sorted(p.name for p in (exp / "samples").iterdir()) == [
        "step_0000004_a2b.png", "step_0000004_b2a.png", "step_0000008_a2b.png", "step_0000008_b2a.png"]
    data = tmp_path / "data"
    runner = CliRunner()
    assert runner.invoke(main, ["builtin-data", "image", str(data)]).exit_code == 0
    # a nested folder with odd files: all good ones convert, relative paths mirrored, bad ones listed
    src = tmp_path / "in"
    (src / "sub").mkdir(parents=True)
    for i, path in enumerate(sorted((data / "testA").glob("*.png"))[:5]):
        Image.open(path).convert("L" if i == 0 else "RGB").save(src / ("sub" if i % 2 else "") / (path.stem + ".jpg"))
    Image.new("RGBA", (37, 23), (200, 10, 10, 128)).save(src / "odd.png")
    (src / "broken.png").write_bytes(b"nope")
    out = tmp_path / "out"
    result = runner.invoke(main, ["convert", "--model", str(exp), "--direction", "a2b", str(src), str(out)])
    assert result.exit_code == 1 and "broken.png" in result.output and "6 written, 1 failed" in result.output
    assert (out / "sub" / "a_1000001.png").is_file() and (out / "odd.png").is_file()
    assert Image.open(out / "odd.png").size == (16, 16)
    grid = Image.open(tmp_path / "out_grids" / "odd.png")
    assert grid.size == (3 * 16 + 2 * 4, 16)
    # original size, a single file, no grid
    result = runner.invoke(main, ["convert", "--model", str(exp / "checkpoints" / "latest.pt"), "--direction", "b2a",
                                  "--size", "original", "--no-grid", str(src / "odd.png"), str(tmp_path / "one.png")])
    assert result.exit_code == 0, result.output
    assert Image.open(tmp_path / "one.png").size == (37, 23) and not (tmp_path / "one_grid.png").exists()
    # existing outputs are refused unless --overwrite
    again = runner.invoke(main, ["convert", "--model", str(exp), "--direction", "b2a", str(src / "odd.png"),
                                 str(tmp_path / "one.png")])
    assert again.exit_code == 1 and "--overwrite" in again.output

    fake_b, cycled = tmp_path / "fakeB", tmp_path / "cycA"
    assert runner.invoke(main, ["convert", "--model", str(exp), "--direction", "a2b", str(data / "testA"),
                                str(fake_b)]).exit_code == 0
    assert runner.invoke(main, ["convert", "--model", str(exp), "--direction", "b2a", "--no-grid", str(fake_b),
                                str(cycled)]).exit_code == 0
    assert len(list(fake_b.glob("*.png"))) == 16
    inception = inception_stand_in(tmp_path / "inception.pt")
    report = tmp_path / "eval.json"
    result = runner.invoke(main, ["evaluate", str(fake_b), str(data / "testB"), "--source", str(data / "testA"),
                                  "--cycled", str(cycled), "--inception", str(inception), "--json", str(report)])
    assert result.exit_code == 0, result.output
    scores = json.loads(report.read_text())
    assert scores["task"] == "image" and scores["classifier"]["trained_here"]
    assert scores["classifier"]["accuracy"] >= 0.9  # plain vs striped coats are easy to tell apart
    assert scores["p_target"]["source"] < 0.2 and scores["p_target"]["reference"] > 0.8
    assert {"strength", "fid", "kid", "fid_source"} <= set(scores)
    assert "transfer strength S" in result.output and "FID" in result.output
    for key, period in (("checkerboard", 2), ("checkerboard_period4", 4)):
        board = scores[key]
        assert board["pairs"] == 16 and board["ratio"] > 0
        assert board["ratio_to_reference"] == pytest.approx(board["converted"] / board["reference"])
        assert f"checkerboard, period {period} px (energy share, converted / source, 16 pairs)" in result.output
        assert f"checkerboard, period {period} px (energy share of real reference images" in result.output

    # a saved classifier (trained from folders) gives the same kind of report
    clf = api.train("image_classifier", out=tmp_path / "clf", progress=False,
                    overrides=[f"data.root={data}", "features.size=32", "train.steps=60", "train.device=cpu"])
    assert clf.name == "classifier.pt"
    result = api.evaluate(fake_b, data / "testB", task="image", classifier=str(clf))
    assert result["direction"] == "A->B" and not result["classifier"]["trained_here"]
    assert result["classifier"]["image_size"] == 32 and "strength" not in result
    assert result["checkerboard"]["pairs"] == 0 and "ratio" not in result["checkerboard"]  # no source to compare
    assert result["checkerboard"]["reference"] > 0  # the real striped coats have period-2 texture
    flipped = api.evaluate(data / "testA", data / "testA", task="image", classifier=str(clf))
    assert flipped["direction"] == "B->A"


def test_evaluate_needs_a_source_or_a_classifier(tmp_path: Path) -> None:
    folder = tmp_path / "x"
    folder.mkdir()
    Image.fromarray(np.zeros((8, 8, 3), dtype=np.uint8)).save(folder / "a.png")
    result = CliRunner().invoke(main, ["evaluate", str(folder), str(folder)])
    assert result.exit_code == 2 and "--source" in result.output and "Traceback" not in result.output


def test_resume_is_exact_for_images(tmp_path: Path) -> None:
    straight = load_checkpoint(_train(tmp_path, "straight"))
    _train(tmp_path, "split", "train.epochs=1")
    resumed = load_checkpoint(_train(tmp_path, "split", resume=True))
    assert straight["step"] == resumed["step"] == 8
    for name in ("g_ab", "g_ba"):
        for key, value in straight["generators"][name].items():
            assert torch.equal(value, resumed["generators"][name][key]), key
    for key, value in straight["discriminators"].items():
        assert torch.equal(value, resumed["discriminators"][key]), key
    assert straight["schedulers"]["g"]["last_epoch"] == resumed["schedulers"]["g"]["last_epoch"] == 8
    # the epoch-based schedule has decayed: 4 steps per epoch, 1 constant epoch, then 2 of decay
    assert straight["schedulers"]["g"]["_last_lr"][0] == pytest.approx(0.0)
    assert torch.equal(straight["model_extra"]["pool_a"]["items"], resumed["model_extra"]["pool_a"]["items"])
    assert straight["optimizers"]["g"]["state"][0]["step"] == resumed["optimizers"]["g"]["state"][0]["step"]
