"""Voice validation during training: held-out files, scores in train.log and TensorBoard, best.pt; the edit
strength chosen afterwards on the same files."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from cycleaudio import api
from cycleaudio.cli import main
from cycleaudio.engine.checkpoint import BEST_FILE
from cycleaudio.errors import CycleAudioError
from cycleaudio.runner import get_task, load_bundle, load_recipe
from cycleaudio.tasks.voice.convert import statistics_only
from cycleaudio.tasks.voice.validation import hash_order, split_off

from .voice_data import write_speaker

pytestmark = pytest.mark.e2e  # runs the real training and CLI entry points

DEBUG = ["--set", "train.steps=4", "--set", "train.sample_every=0", "--set", "train.checkpoint_every=2",
         "--set", "train.valid_every=2"]


@pytest.fixture(scope="module")
def voices(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("voices")
    write_speaker(root / "male", "male", [1, 3, 5, 7])
    write_speaker(root / "female", "female", [2, 4, 6, 8])
    write_speaker(root / "eval_male", "male", [10, 11], take=1)  # parallel: the same sentences
    write_speaker(root / "eval_female", "female", [10, 11], take=1)
    return root


def _train(root: Path, exp: Path, *sets: str) -> None:
    result = CliRunner().invoke(main, [
        "train", "vc_male2female_debug", "--out", str(exp), "--quiet",
        "--set", f"data.domain_a={root / 'male'}", "--set", f"data.domain_b={root / 'female'}",
        "--set", f"data.cache_dir={root / 'cache'}", *DEBUG, *[a for s in sets for a in ("--set", s)],
    ])
    assert result.exit_code == 0, result.output


@pytest.fixture(scope="module")
def validated(voices: Path) -> Path:
    """An experiment that validated against parallel references (MCD criterion)."""
    exp = voices / "exp"
    _train(voices, exp, f"data.valid_a={voices / 'eval_male'}", f"data.valid_b={voices / 'eval_female'}",
           f"data.valid_reference={voices / 'eval_female'}", "train.valid_criterion=mcd")
    return exp


def test_validation_against_references_logs_scores_and_keeps_best(voices: Path, validated: Path) -> None:
    exp = validated
    lines = [line for line in (exp / "train.log").read_text().splitlines() if " valid step " in line]
    assert len(lines) == 2 and " valid step 2 " in lines[0] and " valid step 4 " in lines[1]
    assert not any("still copy their input" in line for line in lines)  # a plain generator never starts there
    for key in ("cycle=", "identity=", "mcd=", "log_f0_mean_error="):
        assert key in lines[0], lines[0]
    scalars = EventAccumulator(str(exp / "tb")).Reload().Tags()["scalars"]
    assert {"valid/cycle", "valid/identity", "valid/mcd", "valid/log_f0_mean_error"} <= set(scalars)

    mcds = {step: float(line.split("mcd=")[1].split()[0]) for step, line in zip((2, 4), lines)}
    best_step = min(mcds, key=mcds.get)
    record = torch.load(exp / BEST_FILE, weights_only=True)["best"]
    assert record["criterion"] == "mcd" and record["step"] == best_step
    assert record["value"] == pytest.approx(mcds[best_step], abs=1e-4)
    assert 0 < record["value"] < 30  # dB, the evaluation's definition

    assert load_bundle(exp, "cpu", which="best").step == best_step
    out = voices / "converted_best"
    result = CliRunner().invoke(main, ["convert", "--model", str(exp), "--checkpoint", "best", "--direction", "a2b",
                                       str(voices / "eval_male"), str(out)])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.glob("*.wav")) == ["s0010.wav", "s0011.wav"]


def test_generators_stuck_at_the_identity_are_reported(voices: Path) -> None:
    exp = voices / "exp_identity"
    _train(voices, exp, f"data.valid_a={voices / 'eval_male'}", f"data.valid_b={voices / 'eval_female'}",
           "model.generator.args.residual=true", "optim.g_lr=0")  # a residual generator that cannot move
    lines = [line for line in (exp / "train.log").read_text().splitlines() if " valid step " in line]
    assert len(lines) == 2
    assert all("still copy their input" in line for line in lines)  # from half the run on (steps 2 and 4 of 4)


def test_held_out_files_are_excluded_from_training(voices: Path) -> None:
    exp = voices / "exp_split"
    _train(voices, exp, "data.valid_files=1")  # no references: criterion cycle
    state = torch.load(exp / BEST_FILE, weights_only=True)
    assert state["statistics"]["a"]["files"] == 3 and state["statistics"]["b"]["files"] == 3  # 4 minus 1 held out
    assert "mcd=" not in (exp / "train.log").read_text() and state["best"]["criterion"] == "cycle"

    recipe = load_recipe("vc_male2female_debug", [f"data.domain_a={voices / 'male'}", "data.valid_files=1",
                                                  "train.valid_every=2"])
    training, held_out = get_task("voice").domain_files(recipe, "a")
    assert len(held_out) == 1 and held_out[0] not in training and len(training) == 3
    without = load_recipe("vc_male2female_debug", [f"data.domain_a={voices / 'male'}", "data.valid_files=1"])
    assert get_task("voice").domain_files(without, "a") == (sorted(training + held_out), [])  # not validating
    overlapping = load_recipe("vc_male2female_debug", [f"data.domain_a={voices / 'male'}", "train.valid_every=2",
                                                       f"data.valid_a={voices / 'male'}", f"data.valid_b={voices / 'female'}",
                                                       "data.valid_files=2"])
    training, held_out = get_task("voice").domain_files(overlapping, "a")
    assert len(training) == 2 and not set(training) & set(held_out)


def test_held_out_pick_is_stable(tmp_path: Path) -> None:
    files = [tmp_path / f"{i:03d}.wav" for i in range(10)]
    kept, held = split_off(files, tmp_path, 3)
    assert set(split_off(list(reversed(files)), tmp_path, 3)[1]) == set(held)  # listing order does not matter
    assert set(held) == set(hash_order(files, tmp_path)[:3]) and not set(held) & set(kept)
    moved = [tmp_path / "elsewhere" / f.name for f in files]  # the pick hashes paths below the folder
    assert [f.name for f in split_off(moved, tmp_path / "elsewhere", 3)[1]] == [f.name for f in held]


def test_builtin_voices_validate_on_their_own_sentences(tmp_path: Path) -> None:
    recipe = load_recipe("vc_builtin_quick", [f"data.cache_dir={tmp_path}"])
    training, held_out = get_task("voice").domain_files(recipe, "a")
    assert [p.parent.parent.name for p in held_out] == ["valid"] * 4
    evaluation = {p.name for p in (held_out[0].parent.parent.parent / "eval" / "male").iterdir()}
    assert len(evaluation) == 8 and not evaluation & {p.name for p in held_out}  # best.pt is scored on others
    assert {p.parent.parent.name for p in training} == {"train"}


def test_choose_strength_scores_each_strength_on_the_validation_files(voices: Path, validated: Path) -> None:
    scores_file = voices / "strength.json"
    result = CliRunner().invoke(main, ["choose-strength", "--model", str(validated), "--strengths", "0, 0.5 1 1",
                                       "--quiet", "--json", str(scores_file)])
    assert result.exit_code == 0, result.output
    scores = json.loads(scores_file.read_text())["mcd_db"]
    assert list(scores) == ["0.0", "0.5", "1.0"]  # in the order given, the repeat dropped
    best_record = torch.load(validated / BEST_FILE, weights_only=True)["best"]
    assert scores["1.0"] == pytest.approx(best_record["value"], abs=1e-4)  # the model as training validated it
    assert scores["0.0"] != pytest.approx(scores["1.0"], abs=1e-3)  # 0 is the statistics only, not the model
    chosen = min(scores, key=scores.get)
    assert result.stdout.strip() == f"{float(chosen):g}"  # stdout: the strength alone, for scripts
    assert f"strength 0.5: validation MCD {scores['0.5']:.3f} dB" in result.stderr

    bundle = load_bundle(validated, "cpu", which="best")
    statistics_only_mcd = get_task("voice").validator(bundle.recipe)(statistics_only(bundle))["mcd"]
    assert scores["0.0"] == pytest.approx(statistics_only_mcd, abs=1e-6)


def test_choose_strength_needs_references_and_sane_strengths(validated: Path) -> None:
    assert list(api.choose_strength(validated, device="cpu").mcd_db) == list(api.DEFAULT_STRENGTHS)
    bundle = load_bundle(validated, "cpu", which="best")
    task = get_task("voice")
    unreferenced = dataclasses.replace(bundle.recipe, data=dataclasses.replace(bundle.recipe.data, valid_reference=""))
    with pytest.raises(CycleAudioError, match="no data.valid_reference"):
        task.choose_strength(dataclasses.replace(bundle, recipe=unreferenced), (1.0,))
    unvalidated = dataclasses.replace(bundle.recipe, train=dataclasses.replace(bundle.recipe.train, valid_every=0))
    with pytest.raises(CycleAudioError, match="held out no validation files"):
        task.choose_strength(dataclasses.replace(bundle, recipe=unvalidated), (1.0,))

    for strengths, message in (("0.5 x", "'x' is not a number"), (" , ", "at least one strength"),
                               ("0.5 3", "must be between 0")):
        result = CliRunner().invoke(main, ["choose-strength", "--model", str(validated), "--strengths", strengths])
        assert result.exit_code == 2 and message in result.output, result.output
        assert len(result.output.strip().splitlines()) == 1, result.output  # one line, no usage text
