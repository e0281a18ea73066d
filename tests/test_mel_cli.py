"""Mel voice conversion end to end through the CLI: train, convert with both vocoders, evaluate."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from cycleaudio.cli import main
from cycleaudio.errors import CycleAudioError
from cycleaudio.runner import load_bundle
from cycleaudio.tasks.voice.convert import convert_features, statistics_only
from cycleaudio.tasks.voice.mel_convert import MEL_KEY, check_world_vocoder

from .voice_data import write_speaker, write_training_pair

pytestmark = pytest.mark.e2e  # runs the real training and CLI entry points

STEPS = ["--set", "train.steps=4", "--set", "train.sample_every=4", "--set", "train.checkpoint_every=4"]


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("mel")
    write_training_pair(root)
    write_speaker(root / "eval_male", "male", [10, 11], take=1)
    write_speaker(root / "eval_female", "female", [10, 11], take=1)
    cache = ["--set", f"data.cache_dir={root / 'cache'}"]
    runner = CliRunner()
    paths = {"root": root}
    for recipe in ("vc_mask_male2female_debug", "vc_vc3_male2female_debug"):
        exp = root / recipe
        result = runner.invoke(main, ["train", recipe, "--out", str(exp), "--quiet", *cache, *STEPS,
                                      "--set", f"data.domain_a={root / 'male'}", "--set", f"data.domain_b={root / 'female'}"])
        assert result.exit_code == 0, result.output
        paths[recipe] = exp
    vocoder = root / "vocoder"
    result = runner.invoke(main, ["train", "vocoder_female_debug", "--out", str(vocoder), "--quiet", *cache,
                                  "--set", f"data.folder={root / 'female'}", "--set", "train.steps=2"])
    assert result.exit_code == 0, result.output
    paths["vocoder"] = vocoder
    return paths


def test_mel_training_keeps_per_bin_statistics(setup: dict[str, Path]) -> None:
    state = torch.load(setup["vc_mask_male2female_debug"] / "checkpoints" / "latest.pt", weights_only=True)
    stats = state["statistics"]
    assert stats["features"]["kind"] == "mel" and stats["a"]["mel_mean"].shape == (16,)
    assert list((setup["vc_vc3_male2female_debug"] / "samples").rglob("*.wav"))


@pytest.mark.parametrize("recipe", ["vc_mask_male2female_debug", "vc_vc3_male2female_debug"])
@pytest.mark.parametrize("vocoder", ["griffin-lim", "neural"])
def test_convert_with_either_vocoder_then_evaluate(setup: dict[str, Path], recipe: str, vocoder: str) -> None:
    root = setup["root"]
    out = root / f"out_{recipe}_{vocoder}"
    spec = str(setup["vocoder"]) if vocoder == "neural" else vocoder
    result = CliRunner().invoke(main, ["convert", "--model", str(setup[recipe]), "--direction", "a2b",
                                       "--vocoder", spec, str(root / "eval_male"), str(out)])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.glob("*.wav")) == ["s0010.wav", "s0011.wav"]
    report = out.with_suffix(".json")
    result = CliRunner().invoke(main, ["evaluate", str(out), str(root / "eval_female"), "--json", str(report)])
    assert result.exit_code == 0, result.output
    data = json.loads(report.read_text())
    assert data["task"] == "voice" and data["pairs"] == 2 and data["converted"]["mcd_db"] > 0


def test_statistics_only_maps_mel_statistics_and_vocodes(setup: dict[str, Path]) -> None:
    root, model = setup["root"], setup["vc_mask_male2female_debug"]
    out = root / "out_statistics_only"
    result = CliRunner().invoke(main, ["convert", "--model", str(model), "--direction", "a2b", "--statistics-only",
                                       "--quiet", str(root / "eval_male"), str(out)])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.glob("*.wav")) == ["s0010.wav", "s0011.wav"]
    bundle = statistics_only(load_bundle(model, "cpu"))
    a, b = (({k: np.asarray(v) for k, v in bundle.statistics[d].items() if k.startswith(MEL_KEY)}) for d in "ab")
    mel = np.random.default_rng(0).normal(size=(12, 16))
    expected = (mel - a["mel_mean"]) / a["mel_std"] * b["mel_std"] + b["mel_mean"]
    np.testing.assert_allclose(convert_features(bundle, "a2b", mel, MEL_KEY), expected, rtol=1e-5, atol=1e-5)


def test_bad_files_and_wrong_vocoders_are_one_line_errors(setup: dict[str, Path]) -> None:
    root, model = setup["root"], setup["vc_mask_male2female_debug"]
    mixed = root / "mixed"
    write_speaker(mixed, "male", [20])
    (mixed / "empty.wav").write_bytes(b"")
    runner = CliRunner()
    result = runner.invoke(main, ["convert", "--model", str(model), "--direction", "a2b", str(mixed), str(root / "mixed_out")])
    assert result.exit_code == 1 and "empty file" in result.output and (root / "mixed_out" / "s0020.wav").is_file()
    result = runner.invoke(main, ["convert", "--model", str(model), "--direction", "a2b", "--vocoder",
                                  str(root / "nothing"), str(mixed), str(root / "x")])
    assert result.exit_code != 0 and "griffin-lim or the path" in result.output and "Traceback" not in result.output
    result = runner.invoke(main, ["convert", "--model", str(setup["vocoder"]), "--direction", "a2b", str(mixed), str(root / "y")])
    assert result.exit_code != 0 and "Traceback" not in result.output
    with pytest.raises(CycleAudioError, match="WORLD"):
        check_world_vocoder("griffin-lim")
    check_world_vocoder(None)
