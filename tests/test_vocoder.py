"""The neural vocoder: network shapes, losses going down, the vocoder task end to end with exact resume."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

from cycleaudio.runner import find_recipe
from cycleaudio.cli import main
from cycleaudio.runner import load_recipe
from cycleaudio.tasks.voice.vocoder.nets import HiFiGANGenerator, MultiPeriodMultiScaleDiscriminator
from cycleaudio.errors import CycleAudioError
from cycleaudio.tasks.voice.mel import MelAnalyzer, mel_settings
from cycleaudio.tasks.voice.synthetic import SPEAKERS, synthesize_utterance
from cycleaudio.tasks.voice.vocoder import NeuralVocoder, load_vocoder
from cycleaudio.tasks.voice.vocoder.data import WaveMelSegments
from cycleaudio.tasks.voice.vocoder.training import VocoderTrainer

from .voice_data import write_speaker


def test_generator_makes_one_hop_per_frame_and_discriminators_judge_every_member() -> None:
    g = HiFiGANGenerator(n_mels=16, channels=16, upsample_rates=(4, 4), upsample_kernels=(8, 8),
                         resblock_kernels=(3,), resblock_dilations=((1, 2),))
    wave = g(torch.randn(2, 16, 10))
    assert g.hop_length == 16 and wave.shape == (2, 160) and wave.abs().max() <= 1
    d = MultiPeriodMultiScaleDiscriminator(periods=(2, 3), period_channels=4, scales=2, scale_channels=4, max_channels=8)
    judgements = d(wave)
    assert len(judgements) == 4 and all(score.shape[0] == 2 and len(maps) > 2 for score, maps in judgements)
    with pytest.raises(ValueError, match="even number"):
        HiFiGANGenerator(upsample_rates=(4,), upsample_kernels=(7,), channels=16)


def _trainer(adversarial_start: int) -> VocoderTrainer:
    recipe = load_recipe(find_recipe("vocoder_female_debug"), [f"loss.adversarial_start={adversarial_start}"])
    settings = mel_settings(recipe.features)
    wave = synthesize_utterance(SPEAKERS["female"], 1)
    (mel,) = MelAnalyzer(settings).batch([wave])
    data = WaveMelSegments([(wave, mel)], settings.hop_length, recipe.features.segment_frames)
    return VocoderTrainer(recipe, settings, data, torch.device("cpu"))


def test_training_steps_reduce_the_losses() -> None:
    trainer = _trainer(adversarial_start=0)
    logs = [trainer.train_step() for _ in range(40)]
    first = {k: sum(float(l[k]) for l in logs[:5]) for k in ("mel", "g_total", "d_total")}
    last = {k: sum(float(l[k]) for l in logs[-5:]) for k in ("mel", "g_total", "d_total")}
    assert last["mel"] < 0.8 * first["mel"] and last["g_total"] < first["g_total"]
    assert last["d_total"] < first["d_total"]


def test_warm_up_trains_the_mel_loss_alone() -> None:
    trainer = _trainer(adversarial_start=3)
    logs = [trainer.train_step() for _ in range(4)]
    assert "d_total" not in logs[2] and "d_total" in logs[3] and "feature_matching" in logs[3]


@pytest.fixture(scope="module")
def vocoder_exp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("vocoder")
    write_speaker(root / "female", "female", [1, 2, 3])
    exp = root / "exp"
    result = CliRunner().invoke(main, ["train", "vocoder_female_debug", "--out", str(exp), "--quiet",
                                       "--set", f"data.folder={root / 'female'}", "--set", f"data.cache_dir={root / 'cache'}"])
    assert result.exit_code == 0, result.output
    return exp


@pytest.mark.e2e
def test_vocoder_task_writes_a_safe_checkpoint_samples_and_logs(vocoder_exp: Path) -> None:
    state = torch.load(vocoder_exp / "checkpoints" / "latest.pt", weights_only=True)
    assert state["format"] == "cycleaudio-vocoder" and state["step"] == 6 and state["mel"]["n_mels"] == 16
    assert list((vocoder_exp / "samples").rglob("*.wav")) and list((vocoder_exp / "tb").iterdir())
    assert (vocoder_exp / "recipe.yaml").is_file()
    vocoder = NeuralVocoder.load(vocoder_exp)
    assert vocoder(torch.zeros(10, 16).numpy()).shape == (640,)


@pytest.mark.e2e
def test_resume_continues_exactly(vocoder_exp: Path, tmp_path: Path) -> None:
    folder = load_recipe(vocoder_exp / "recipe.yaml").data.folder
    common = ["--quiet", "--set", f"data.folder={folder}", "--set", f"data.cache_dir={tmp_path / 'cache'}"]
    runner = CliRunner()
    half = tmp_path / "half"
    assert runner.invoke(main, ["train", "vocoder_female_debug", "--out", str(half), "--set", "train.steps=3",
                                *common]).exit_code == 0
    result = runner.invoke(main, ["train", "vocoder_female_debug", "--out", str(half), "--resume", *common])
    assert result.exit_code == 0, result.output
    whole = torch.load(vocoder_exp / "checkpoints" / "latest.pt", weights_only=True)
    resumed = torch.load(half / "checkpoints" / "latest.pt", weights_only=True)
    for key, value in whole["weights"].items():
        torch.testing.assert_close(resumed["weights"][key], value)
    again = runner.invoke(main, ["train", "vocoder_female_debug", "--out", str(half), *common])
    assert again.exit_code != 0 and "--resume" in again.output


def test_vocoder_settings_must_match_the_converter(vocoder_exp: Path) -> None:
    settings = NeuralVocoder.load(vocoder_exp).settings
    assert load_vocoder(str(vocoder_exp), settings).settings == settings
    with pytest.raises(CycleAudioError, match="same features settings"):
        load_vocoder(str(vocoder_exp), settings.__class__(**{**settings.as_dict(), "n_mels": 80}))
    with pytest.raises(CycleAudioError, match="griffin-lim or the path"):
        load_vocoder("no/such/vocoder", settings)


@pytest.mark.e2e
def test_a_vocoder_checkpoint_loads_in_a_fresh_process(vocoder_exp: Path) -> None:
    """Loading needs no training code imported first: the vocoder networks register themselves."""
    import subprocess
    import sys

    code = ("from cycleaudio.tasks.voice.vocoder import NeuralVocoder; import sys; "
            "print(NeuralVocoder.load(sys.argv[1]).settings.n_mels)")
    out = subprocess.run([sys.executable, "-c", code, str(vocoder_exp)], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == str(load_recipe(vocoder_exp / "recipe.yaml").features.n_mels)
