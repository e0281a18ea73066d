"""Recipe loading: every shipped recipe validates; every mistake is one line naming file and key."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from cycleaudio.errors import RecipeError
from cycleaudio.runner import load_recipe

REPO_RECIPES = Path(__file__).resolve().parent.parent / "recipes"

VOICE = REPO_RECIPES / "vc_male2female.yaml"


def _write(tmp_path: Path, mutate) -> Path:
    raw = yaml.safe_load(VOICE.read_text())
    mutate(raw)
    path = tmp_path / "r.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


@pytest.mark.parametrize("path", sorted(REPO_RECIPES.glob("*.yaml")), ids=lambda p: p.stem)
def test_shipped_recipes_validate(path: Path) -> None:
    recipe = load_recipe(path)
    assert recipe.description


def test_voice_recipe_has_the_paper_settings() -> None:
    r = load_recipe(VOICE)
    assert (r.model.generator.name, r.model.discriminator.name) == ("cyclegan_vc2", "patchgan_glu")
    assert (r.loss.adversarial, r.loss.lambda_cycle, r.loss.lambda_identity, r.loss.identity_off_step) == ("lsgan", 10, 5, 10000)
    assert r.loss.two_step and (r.optim.g_lr, r.optim.d_lr) == (2e-4, 1e-4)
    assert (r.optim.schedule.constant, r.optim.schedule.decay, r.features.crop_frames) == (200000, 200000, 128)


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda r: r["loss"].update(lamda_cycle=3), r"r\.yaml: unknown key loss\.lamda_cycle; allowed under loss: adversarial"),
        (lambda r: r["train"].update(batch_size="8"), r"train\.batch_size must be int, got '8'"),
        (lambda r: r["loss"].update(adversarial="wgan"), r"loss\.adversarial must be one of 'lsgan'"),
        (lambda r: r.pop("model"), r"missing key model"),
        (lambda r: r.update(task="speech"), r"task must be one of"),
        (lambda r: r["features"].update(crop_frames=30), r"features\.crop_frames must be a positive multiple of 4"),
        (lambda r: r["train"].update(steps=-5), r"train\.steps must be a positive whole number, got -5"),
        (lambda r: r["train"].update(batch_size=0), r"train\.batch_size must be a positive whole number"),
        (lambda r: r["optim"].update(g_lr="nan"), r"optim\.g_lr must be a finite number >= 0, got nan"),
        (lambda r: r["optim"].update(d_lr=-1e-4), r"optim\.d_lr must be a finite number >= 0"),
        (lambda r: r["loss"].update(lambda_cycle=float("inf")), r"loss\.lambda_cycle must be a finite number"),
        (lambda r: r["data"].update(domain_a="builtin:robot"), r"built-in speakers are builtin:male"),
        (lambda r: r["optim"].update(betas=[0.5]), r"optim\.betas must be tuple"),
        (lambda r: r["train"].update(valid_criterion="mcdd"),
         r"r\.yaml: train\.valid_criterion must be one of cycle, identity \(mcd and log_f0_mean_error need "
         r"data\.valid_reference\), got 'mcdd'$"),
        (lambda r: (r["train"].update(valid_criterion="loss"), r["data"].update(valid_reference="/refs")),
         r"train\.valid_criterion must be one of cycle, identity, mcd, log_f0_mean_error, got 'loss'$"),
        (lambda r: r["train"].update(valid_every=100), r"train\.valid_every needs validation files"),
        (lambda r: r["train"].update(valid_every=-1), r"train\.valid_every must be >= 0"),
        (lambda r: r["data"].update(valid_a="/a"), r"data\.valid_a and data\.valid_b go together"),
        (lambda r: r["data"].update(valid_reference="builtin:robot"), r"data\.valid_reference: built-in speakers"),
    ],
)
def test_bad_recipes_name_file_key_and_allowed(tmp_path: Path, mutate, message: str) -> None:
    with pytest.raises(RecipeError, match=message):
        load_recipe(_write(tmp_path, mutate))


def test_overrides_are_typed_and_validated(tmp_path: Path) -> None:
    r = load_recipe(VOICE, ["train.steps=7", "optim.g_lr=1e-3", "model.generator.args.channels=64"])
    assert (r.train.steps, r.optim.g_lr, r.model.generator.args["channels"]) == (7, 1e-3, 64)
    with pytest.raises(RecipeError, match="unknown key train.stepz"):
        load_recipe(VOICE, ["train.stepz=7"])
    with pytest.raises(RecipeError, match="is not KEY=VALUE"):
        load_recipe(VOICE, ["train.steps"])


def test_unreadable_recipes(tmp_path: Path) -> None:
    with pytest.raises(RecipeError, match="recipe not found"):
        load_recipe(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("task: voice\n  - : [\n")
    with pytest.raises(RecipeError, match="not valid YAML at line"):
        load_recipe(bad)


def test_unknown_recipe_name_suggests_the_nearest_shipped_ones() -> None:
    with pytest.raises(RecipeError, match=r"vc_male2femal: no such recipe .* did you mean vc_male2female"):
        load_recipe("vc_male2femal")
    with pytest.raises(RecipeError, match="`cycleaudio recipes` lists the shipped ones"):
        load_recipe("zzzzzz")


@pytest.mark.parametrize("name", ["music_classical2pop_debug", "image_debug"])
def test_tasks_without_validation_refuse_valid_every(name: str) -> None:
    with pytest.raises(RecipeError, match=r"train\.valid_every: the (music|image) task has no validation during training"):
        load_recipe(name, ["train.valid_every=10"])
