"""Per-frame conditions (voicing, log-F0) beside the envelope: rows, networks, recipe checks, a real run."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from cycleaudio.cli import main
from cycleaudio.errors import RecipeError
from cycleaudio.registry import DISCRIMINATORS, GENERATORS
from cycleaudio.runner import get_task, load_bundle, load_recipe
from cycleaudio.tasks.voice.convert import convert_frames
from cycleaudio.tasks.voice.features import condition_rows, generator_input
from cycleaudio.tasks.voice.world import WorldFrames

from .voice_data import write_speaker

STATS = {"envelope_mean": np.full(8, 1.0), "envelope_std": np.full(8, 2.0),
         "log_f0_mean": float(np.log(200.0)), "log_f0_std": 0.1}
CONDITIONED = ["features.condition=voicing_f0", "model.generator.args.condition_rows=2",
               "model.discriminator.args.condition_rows=2"]


def test_condition_rows_mark_voicing_and_standardise_log_f0_with_the_speakers_statistics() -> None:
    f0 = np.array([0.0, 200.0, 200.0 * np.exp(0.1), 0.0])
    voicing, log_f0 = condition_rows(f0, STATS, "voicing_f0")
    np.testing.assert_array_equal(voicing, [-1.0, 1.0, 1.0, -1.0])
    np.testing.assert_allclose(log_f0, [0.0, 0.0, 1.0, 0.0], atol=1e-12)
    np.testing.assert_array_equal(condition_rows(f0, STATS, "voicing"), [voicing])


def test_generator_input_appends_the_rows_below_the_normalised_envelope() -> None:
    envelope = np.random.default_rng(0).normal(size=(4, 8))
    f0 = np.array([0.0, 200.0, 220.0, 0.0])
    x = generator_input(envelope, STATS, "envelope", f0, "voicing_f0")
    assert x.shape == (10, 4)
    np.testing.assert_allclose(x[:8], ((envelope - 1.0) / 2.0).T)
    np.testing.assert_array_equal(x[8], [-1.0, 1.0, 1.0, -1.0])
    np.testing.assert_array_equal(generator_input(envelope, STATS, "envelope"), x[:8])
    with pytest.raises(ValueError, match="needs the F0"):
        generator_input(envelope, STATS, "envelope", None, "voicing")


@pytest.mark.parametrize("name, args", [
    ("cyclegan_vc2", {"feature_dim": 8, "channels": 4, "down_channels": 4, "residual_channels": 8,
                      "n_residual": 1, "up_channels": [4, 4]}),
    ("cyclegan_vc", {"feature_dim": 8, "channels": 4, "residual_channels": 8, "n_residual": 1}),
])
def test_generators_read_the_conditions_and_pass_them_through(name: str, args: dict) -> None:
    torch.manual_seed(0)
    x = torch.randn(2, 10, 16)
    residual = GENERATORS.build(name, {**args, "residual": True, "condition_rows": 2})
    np.testing.assert_array_equal(residual(x).detach().numpy(), x.numpy())  # untrained: the identity

    plain = GENERATORS.build(name, {**args, "condition_rows": 2})
    out = plain(x)
    assert out.shape == x.shape
    torch.testing.assert_close(out[:, 8:], x[:, 8:])  # conditions pass through unchanged
    other = x.clone()
    other[:, 8] = -other[:, 8]
    assert not torch.allclose(plain(other)[:, :8], out[:, :8])  # ... and steer the conversion


def test_discriminator_judges_the_features_only() -> None:
    torch.manual_seed(0)
    conditioned = DISCRIMINATORS.build("patchgan_glu", {"channels": 4, "n_down": 2, "max_channels": 8,
                                                        "condition_rows": 2})
    plain = DISCRIMINATORS.build("patchgan_glu", {"channels": 4, "n_down": 2, "max_channels": 8})
    plain.load_state_dict(conditioned.state_dict())
    x = torch.randn(2, 10, 16)
    torch.testing.assert_close(conditioned(x), plain(x[:, :8]))


def test_recipe_must_declare_the_rows_in_both_networks_and_use_world_features() -> None:
    task = get_task("voice")
    recipe = load_recipe("vc_male2female_debug", ["features.condition=voicing", "model.generator.args.condition_rows=1"])
    with pytest.raises(RecipeError, match=r"model.discriminator.args.condition_rows \(0\) must be 1"):
        task.prepare(recipe, Path("unused"))
    with pytest.raises(RecipeError, match="condition.*kind: world"):
        load_recipe("vc_mask_male2female_debug", ["features.condition=voicing"])


@pytest.mark.e2e
def test_conditioned_model_trains_validates_and_converts(tmp_path: Path) -> None:
    for speaker, ids in (("male", [1, 3]), ("female", [2, 4])):
        write_speaker(tmp_path / speaker, speaker, ids)
        write_speaker(tmp_path / f"valid_{speaker}", speaker, [10], take=1)
    exp = tmp_path / "exp"
    sets = [f"data.domain_a={tmp_path / 'male'}", f"data.domain_b={tmp_path / 'female'}",
            f"data.valid_a={tmp_path / 'valid_male'}", f"data.valid_b={tmp_path / 'valid_female'}",
            f"data.valid_reference={tmp_path / 'valid_female'}", f"data.cache_dir={tmp_path / 'cache'}",
            "train.steps=4", "train.valid_every=2", "train.sample_every=4", "train.checkpoint_every=2", *CONDITIONED]
    result = CliRunner().invoke(main, ["train", "vc_male2female_debug", "--out", str(exp), "--quiet",
                                       *[a for s in sets for a in ("--set", s)]])
    assert result.exit_code == 0, result.output
    assert " valid step 4 " in (exp / "train.log").read_text()

    out = tmp_path / "converted"
    result = CliRunner().invoke(main, ["convert", "--model", str(exp), "--direction", "a2b",
                                       str(tmp_path / "valid_male"), str(out)])
    assert result.exit_code == 0, result.output
    assert (out / "s0010.wav").is_file()

    bundle = load_bundle(exp, "cpu")
    frames = WorldFrames(np.full(40, 120.0), np.zeros((40, 16)), np.full((40, 513), 0.5))
    assert convert_frames(bundle, "a2b", frames).envelope.shape == (40, 16)  # the condition rows are dropped

