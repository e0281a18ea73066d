"""Voice task end to end through the CLI: train -> convert -> evaluate, bad inputs, statistics."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from cycleaudio import api
from cycleaudio.engine.bundle import ModelBundle
from cycleaudio.errors import CycleAudioError
from cycleaudio.runner import get_task, load_bundle
from cycleaudio.cli import main
from cycleaudio.tasks.base import parse_options
from cycleaudio.tasks.voice.audio import read_audio
from cycleaudio.tasks.voice.convert import (convert_envelope, convert_frames, statistics_only, with_strength,
                                           world_settings)
from cycleaudio.tasks.voice.world import WorldFrames, analyze, synthesize

from .voice_data import write_speaker

pytestmark = pytest.mark.e2e  # runs the real training and CLI entry points

DEBUG = ["--set", "train.steps=4", "--set", "train.sample_every=4", "--set", "train.checkpoint_every=2"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("voice")
    write_speaker(root / "male", "male", [1, 3, 5])
    write_speaker(root / "female", "female", [2, 4, 6])
    write_speaker(root / "eval_male", "male", [10, 11], take=1)
    write_speaker(root / "eval_female", "female", [10, 11], take=1)
    exp = root / "exp"
    result = CliRunner().invoke(main, [
        "train", "vc_male2female_debug", "--out", str(exp), "--quiet",
        "--set", f"data.domain_a={root / 'male'}", "--set", f"data.domain_b={root / 'female'}",
        "--set", f"data.cache_dir={root / 'cache'}", *DEBUG,
    ])
    assert result.exit_code == 0, result.output
    return {"root": root, "exp": exp}


def test_training_writes_the_experiment_folder(trained: dict[str, Path]) -> None:
    exp = trained["exp"]
    assert (exp / "checkpoints" / "latest.pt").is_file() and (exp / "recipe.yaml").is_file()
    assert list((exp / "samples").rglob("*.wav")) and list((exp / "tb").iterdir())
    stats = torch.load(exp / "checkpoints" / "latest.pt", weights_only=True)["statistics"]
    assert stats["a"]["log_f0_mean"] < stats["b"]["log_f0_mean"]  # male A, female B


def test_convert_folder_then_evaluate(trained: dict[str, Path]) -> None:
    root, exp = trained["root"], trained["exp"]
    out = root / "converted"
    runner = CliRunner()
    result = runner.invoke(main, ["convert", "--model", str(exp), "--direction", "a2b", str(root / "eval_male"), str(out)])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.glob("*.wav")) == ["s0010.wav", "s0011.wav"]
    assert "times_real_time" in result.output

    again = runner.invoke(main, ["convert", "--model", str(exp), "--direction", "a2b", str(root / "eval_male"), str(out)])
    assert again.exit_code == 1 and "exists (use --overwrite" in again.output

    report = root / "eval.json"
    result = runner.invoke(main, ["evaluate", str(out), str(root / "eval_female"), "--source", str(root / "eval_male"),
                                  "--json", str(report)])
    assert result.exit_code == 0, result.output
    data = json.loads(report.read_text())
    assert data["task"] == "voice" and data["pairs"] == 2
    assert data["source"]["mcd_db"] > 0 and data["converted"]["mcd_db"] > 0
    # the F0 transform alone must bring the mean pitch near the target speaker's
    assert data["converted"]["log_f0_mean_error_cents"] < data["source"]["log_f0_mean_error_cents"] / 3


def test_folder_job_finishes_good_files_and_lists_bad_ones(trained: dict[str, Path]) -> None:
    root, exp = trained["root"], trained["exp"]
    mixed = root / "mixed" / "sub"
    write_speaker(mixed, "male", [20])
    (mixed / "empty.wav").write_bytes(b"")
    (mixed / "notes.wav").write_text("not audio")
    out = root / "mixed_out"
    result = CliRunner().invoke(main, ["convert", "--model", str(exp), "--direction", "a2b", "--workers", "2",
                                       str(root / "mixed"), str(out)])
    assert result.exit_code == 1
    assert (out / "sub" / "s0020.wav").is_file()  # relative path mirrored
    assert "empty.wav: empty file" in result.output and "notes.wav: not a readable audio file" in result.output
    assert "Traceback" not in result.output


def test_direction_uses_the_target_domains_statistics(trained: dict[str, Path]) -> None:
    bundle = load_bundle(trained["exp"], "cpu")
    identity = torch.nn.Identity()
    identity.time_multiple = 4
    stats = {"a": {"envelope_mean": torch.full((16,), 1.0), "envelope_std": torch.full((16,), 2.0)},
             "b": {"envelope_mean": torch.full((16,), -3.0), "envelope_std": torch.full((16,), 0.5)}}
    probe = ModelBundle(bundle.recipe, identity, identity, stats, torch.device("cpu"))
    env = np.random.default_rng(0).normal(size=(10, 16))
    np.testing.assert_allclose(convert_envelope(probe, "a2b", env, np.zeros(10)), (env - 1.0) / 2.0 * 0.5 - 3.0, rtol=1e-5)
    np.testing.assert_allclose(convert_envelope(probe, "b2a", env, np.zeros(10)), (env + 3.0) / 0.5 * 2.0 + 1.0, rtol=1e-5)


def test_statistics_only_maps_source_statistics_onto_the_target(trained: dict[str, Path]) -> None:
    bundle = statistics_only(load_bundle(trained["exp"], "cpu"))
    a, b = bundle.statistics["a"], bundle.statistics["b"]
    rng = np.random.default_rng(0)
    z = rng.normal(size=(200, len(a["envelope_mean"])))
    z = (z - z.mean(axis=0)) / z.std(axis=0)  # exactly zero mean, unit std per dimension
    envelope = np.asarray(a["envelope_mean"]) + np.asarray(a["envelope_std"]) * z
    log_f0 = rng.normal(size=150)
    log_f0 = a["log_f0_mean"] + a["log_f0_std"] * (log_f0 - log_f0.mean()) / log_f0.std()
    f0 = np.concatenate([np.exp(log_f0), np.zeros(50)])
    aperiodicity = rng.uniform(size=(200, 9))
    out = convert_frames(bundle, "a2b", WorldFrames(f0, envelope, aperiodicity))
    np.testing.assert_allclose(out.envelope.mean(axis=0), np.asarray(b["envelope_mean"]), atol=1e-4)
    np.testing.assert_allclose(out.envelope.std(axis=0), np.asarray(b["envelope_std"]), rtol=1e-4)
    voiced = out.f0 > 0
    assert voiced.sum() == 150
    np.testing.assert_allclose(np.log(out.f0[voiced]).mean(), b["log_f0_mean"], atol=1e-6)
    np.testing.assert_array_equal(out.aperiodicity, aperiodicity)


def test_convert_statistics_only_then_evaluate_with_baseline(trained: dict[str, Path]) -> None:
    root, exp = trained["root"], trained["exp"]
    out, converted = root / "statistics_only", root / "converted_for_baseline"
    runner = CliRunner()
    for target, flags in ((out, ["--statistics-only"]), (converted, [])):
        result = runner.invoke(main, ["convert", "--model", str(exp), "--direction", "a2b", "--quiet", *flags,
                                      str(root / "eval_male"), str(target)])
        assert result.exit_code == 0, result.output

    # the CLI output is the identity-generator conversion with the target's statistics
    bundle = load_bundle(exp, "cpu")
    settings = world_settings(bundle.recipe)
    wave = read_audio(root / "eval_male" / "s0010.wav", settings.sample_rate)
    expected = synthesize(convert_frames(statistics_only(bundle), "a2b", analyze(wave, settings)), settings)
    written = read_audio(out / "s0010.wav", settings.sample_rate)
    assert len(written) == len(wave)  # conversion keeps the input's length exactly
    expected = expected[: len(wave)]
    np.testing.assert_allclose(written, expected * min(1.0, 0.99 / np.max(np.abs(expected))), atol=1e-3)
    assert not np.allclose(written, read_audio(converted / "s0010.wav", settings.sample_rate), atol=1e-3)

    report = root / "baseline.json"
    result = runner.invoke(main, ["evaluate", str(converted), str(root / "eval_female"), "--quiet",
                                  "--source", str(root / "eval_male"), "--baseline", str(out), "--json", str(report)])
    assert result.exit_code == 0, result.output
    rows = [line.split()[0] for line in result.output.splitlines()[2:5]]
    assert rows == ["unconverted", "statistics-only", "converted"]
    data = json.loads(report.read_text())
    assert data["statistics_only"]["mcd_db"] > 0 and all("statistics_only" in row for row in data["files"])
    # the statistics alone move the mean pitch to the target speaker's
    assert data["statistics_only"]["log_f0_mean_error_cents"] < data["source"]["log_f0_mean_error_cents"] / 3

    missing = runner.invoke(main, ["evaluate", str(converted), str(root / "eval_female"),
                                   "--baseline", str(root / "nowhere")])
    assert missing.exit_code == 2 and "no such file or folder" in missing.output
    assert missing.output.count("\n") == 1


def test_strength_scales_the_generators_edit_between_the_statistics_and_the_full_conversion(
        trained: dict[str, Path]) -> None:
    bundle = load_bundle(trained["exp"], "cpu")
    rng = np.random.default_rng(3)
    frames = WorldFrames(np.where(rng.uniform(size=48) < 0.7, 110.0, 0.0), rng.normal(size=(48, 16)),
                         rng.uniform(size=(48, 9)))
    full, none = (convert_frames(b, "a2b", frames).envelope for b in (bundle, statistics_only(bundle)))
    assert not np.allclose(full, none, atol=1e-3)
    np.testing.assert_allclose(convert_frames(with_strength(bundle, 1.0), "a2b", frames).envelope, full, atol=1e-5)
    np.testing.assert_allclose(convert_frames(with_strength(bundle, 0.0), "a2b", frames).envelope, none, atol=1e-5)
    # the de-normalisation is affine, so half the edit lands halfway between the two conversions
    half = convert_frames(with_strength(bundle, 0.5), "a2b", frames)
    np.testing.assert_allclose(half.envelope, (full + none) / 2, atol=1e-5)
    np.testing.assert_array_equal(half.f0, convert_frames(bundle, "a2b", frames).f0)  # F0: the same transform


def test_strength_out_of_range_or_beside_statistics_only_is_a_one_line_error(trained: dict[str, Path]) -> None:
    root, exp = trained["root"], trained["exp"]
    runner = CliRunner()
    for flags, message in ((["--strength", "3"], "--strength must be between 0 (statistics only) and 2, got 3"),
                           (["--strength", "1", "--statistics-only"], "--statistics-only is --strength 0")):
        result = runner.invoke(main, ["convert", "--model", str(exp), "--direction", "a2b", "--quiet", *flags,
                                      str(root / "eval_male"), str(root / "strength_out")])
        assert result.exit_code == 2 and message in result.output, result.output
        assert result.output.count("\n") == 1
    assert not (root / "strength_out").exists()
    result = runner.invoke(main, ["convert", "--model", str(exp), "--direction", "a2b", "--quiet", "--strength", "0.5",
                                  str(root / "eval_male"), str(root / "strength_out")])
    assert result.exit_code == 0 and sorted(p.name for p in (root / "strength_out").iterdir()) == ["s0010.wav", "s0011.wav"]


def test_out_of_domain_voices_are_flagged_and_refused_with_strict(trained: dict[str, Path]) -> None:
    root, exp = trained["root"], trained["exp"]
    inputs = root / "ood_in"
    inputs.mkdir()
    shutil.copy(root / "eval_male" / "s0010.wav", inputs / "male.wav")  # the source speaker of a2b
    shutil.copy(root / "eval_female" / "s0011.wav", inputs / "female.wav")
    report = api.convert(exp, "a2b", inputs, root / "ood_out", device="cpu", workers=1, progress=False)
    assert report.ok and len(report.written) == 2
    assert [(path.name, reason.split(" Hz")[0]) for path, reason in report.warnings] == [
        ("female.wav", "out of domain: median F0 220")]
    assert report.domain[inputs / "male.wav"]["in_domain"] and report.domain[inputs / "male.wav"]["log_f0_z"] < 1
    assert report.domain[inputs / "female.wav"]["domain_distance"] > 1

    result = CliRunner().invoke(main, ["convert", "--model", str(exp), "--direction", "a2b", "--strict", "--quiet",
                                       str(inputs), str(root / "ood_strict")])
    assert result.exit_code == 1 and "1 written, 1 failed" in result.output
    assert "female.wav: out of domain: median F0" in result.output and "refused by --strict" in result.output
    assert [p.name for p in (root / "ood_strict").iterdir()] == ["male.wav"]


def test_evaluate_in_workers_gives_the_serial_numbers(trained: dict[str, Path]) -> None:
    root = trained["root"]
    serial, pooled = (api.evaluate(root / "eval_male", root / "eval_female", root / "eval_male", workers=n, progress=False)
                      for n in (1, 2))
    assert serial == pooled and serial["pairs"] == 2 and serial["source"] == serial["converted"]


def test_statistics_only_is_refused_for_music_models() -> None:
    with pytest.raises(CycleAudioError, match="--statistics-only does not apply to music models"):
        parse_options(get_task("music").convert_options, {"statistics_only": True}, "music models")


def test_user_errors_are_one_line(trained: dict[str, Path], tmp_path: Path) -> None:
    runner = CliRunner()
    cases = [
        (["convert", "--model", str(tmp_path / "nope"), "--direction", "a2b", str(tmp_path), str(tmp_path / "o")],
         "no such checkpoint or experiment folder"),
        (["train", str(tmp_path / "missing.yaml")], "recipe not found"),
        (["convert", "--model", str(trained["exp"]), "--direction", "a2b", str(tmp_path / "none"), str(tmp_path / "o")],
         "no such file or folder"),
        (["convert", "--model", str(trained["exp"]), "--direction", "a2b", "--threshold", "0.3", str(tmp_path),
          str(tmp_path / "o")], "--threshold does not apply to voice models (its options: --overwrite, --strict, --workers"),
        (["convert", "--model", str(trained["exp"]), "--direction", "a2b", "--checkpoint", "best", str(tmp_path),
          str(tmp_path / "o")], "no checkpoints/best.pt"),
    ]
    (tmp_path / "junk.pt").write_bytes(b"junk")
    cases.append((["export", str(tmp_path / "junk.pt"), str(tmp_path / "e.pt")], "not a readable cycleaudio model checkpoint"))
    for args, message in cases:
        result = runner.invoke(main, args)
        assert result.exit_code == 2, result.output
        assert message in result.output and result.output.count("\n") == 1


def test_export_is_loadable_for_conversion(trained: dict[str, Path]) -> None:
    out = trained["root"] / "model.pt"
    assert CliRunner().invoke(main, ["export", str(trained["exp"]), str(out)]).exit_code == 0
    state = torch.load(out, weights_only=True)
    assert state["format"] == "cycleaudio-export" and "optimizers" not in state
    bundle = load_bundle(out, "cpu")
    assert bundle.statistics["b"]["files"] == 3
