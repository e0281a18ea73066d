"""The notebook API (``cycleaudio.load``, tables in Jupyter) and the safetensors and ONNX exports.

Models are untrained generators of the debug recipes written as exports, so no training is needed:
what is checked is the plumbing (shapes, rates, devices, files) and that exports compute what torch does.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pretty_midi
import pytest
import torch
from click.testing import CliRunner
from PIL import Image

import cycleaudio
from cycleaudio import api, runner
from cycleaudio.cli import main
from cycleaudio.config import to_dict
from cycleaudio.engine.checkpoint import EXPORT_FORMAT, write_atomically
from cycleaudio.engine.cyclegan import build_generators
from cycleaudio.engine.export import optional_module
from cycleaudio.errors import CycleAudioError
from cycleaudio.version import __version__

TINY_MUSIC = ["model.generator.args.channels=4", "model.generator.args.n_blocks=1"]


def _voice_statistics(dim: int) -> dict[str, Any]:
    def speaker(log_f0: float) -> dict[str, Any]:
        return {"envelope_mean": torch.zeros(dim), "envelope_std": torch.ones(dim), "mel_mean": torch.full((dim,), -4.0),
                "mel_std": torch.ones(dim), "log_f0_mean": log_f0, "log_f0_std": 0.2, "files": 1}
    return {"a": speaker(4.8), "b": speaker(5.4)}


def write_model(path: Path, recipe_name: str, overrides: list[str] = ()) -> Path:
    """An export of the (untrained) generators of a shipped recipe."""
    recipe = runner.load_recipe(recipe_name, list(overrides))
    g_ab, g_ba = build_generators(recipe.model)
    statistics = _voice_statistics(recipe.features.dim) if recipe.task == "voice" else {}
    write_atomically({"format": EXPORT_FORMAT, "version": __version__, "recipe": to_dict(recipe),
                      "statistics": statistics, "step": 7,
                      "generators": {"g_ab": g_ab.state_dict(), "g_ba": g_ba.state_dict()}}, path)
    return path


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("models")
    return {"voice": write_model(root / "voice.pt", "vc_male2female_debug"),
            "music": write_model(root / "music.pt", "music_classical2pop_debug", TINY_MUSIC),
            "image": write_model(root / "image.pt", "image_debug"),
            "mel": write_model(root / "mel.pt", "vc_mask_male2female_debug")}


def _invoke(*args: str) -> str:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, result.output
    return result.output


# ---------------------------------------------------------------------------- notebook API
@pytest.mark.parametrize("kind", ["voice", "mel"])
def test_voice_converter_resamples_and_converts_arrays(models: dict[str, Path], kind: str) -> None:
    converter = cycleaudio.load(models[kind], device="cpu")
    rate = 22050
    t = np.arange(int(0.4 * rate)) / rate
    wave = sum(0.2 / k * np.sin(2 * np.pi * 120 * k * t) for k in range(1, 6))
    out, out_rate = converter.convert(np.stack([wave, wave], axis=1), rate, direction="a2b")
    model_rate = converter.sample_rate
    assert out_rate == model_rate and abs(len(out) - 0.4 * model_rate) < 0.02 * model_rate and np.all(np.isfinite(out))
    with pytest.raises(CycleAudioError, match="too short"):
        converter.convert(wave[:10], rate)
    with pytest.raises(CycleAudioError, match="direction"):
        converter.convert(wave, rate, direction="x")


def test_music_transfer_returns_a_song_on_the_source_grid(models: dict[str, Path]) -> None:
    song = pretty_midi.PrettyMIDI(initial_tempo=100)
    piano = pretty_midi.Instrument(0)
    piano.notes = [pretty_midi.Note(90, 60 + i % 12, i * 0.3, i * 0.3 + 0.25) for i in range(16)]
    song.instruments.append(piano)
    out = api.load(models["music"], device="cpu").transfer(song, direction="b2a", threshold=0.3, instrument=40)
    assert isinstance(out, pretty_midi.PrettyMIDI) and out.instruments[0].program == 40
    assert out.get_tempo_changes()[1][0] == pytest.approx(100)
    with pytest.raises(CycleAudioError, match="threshold"):
        api.load(models["music"], device="cpu").transfer(song, threshold=2.0)


def test_image_translator_keeps_or_resizes_like_file_conversion(models: dict[str, Path]) -> None:
    translator = api.load(models["image"], device="cpu")
    image = Image.new("RGBA", (21, 13), (200, 30, 30, 128))
    assert translator.translate(image).size == (translator.crop, translator.crop)
    original = translator.translate(image, direction="b2a", size="original")
    assert original.size == (21, 13) and original.mode == "RGB"


def test_tasks_without_a_converter_say_so_in_one_line() -> None:
    with pytest.raises(CycleAudioError, match="no in-memory converter"):
        runner.get_task("vocoder").converter(None)


def test_evaluation_is_a_dict_that_renders_as_html_tables() -> None:
    result = api.Evaluation({"task": "voice", "pairs": 2, "source": {"mcd_db": 9.5}, "converted": {"mcd_db": 7.25}})
    assert isinstance(result, dict) and json.loads(json.dumps(result))["pairs"] == 2
    html = result._repr_html_()
    assert html.count("<table>") == 2 and "<th>converted</th>" in html and "7.25" in html


# ---------------------------------------------------------------------------- export formats
def test_safetensors_export_loads_like_a_checkpoint(models: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "image.safetensors"
    assert f"written: {out}" in _invoke("export", str(models["image"]), str(out), "--format", "safetensors")
    sidecar = json.loads(out.with_suffix(".json").read_text())
    assert sidecar["format"] == EXPORT_FORMAT and sidecar["step"] == 7 and sidecar["recipe"]["task"] == "image"
    original, loaded = runner.load_bundle(models["image"], "cpu"), runner.load_bundle(out, "cpu")
    for key, tensor in original.g_ab.state_dict().items():
        assert torch.equal(tensor, loaded.g_ab.state_dict()[key])
    Image.new("RGB", (16, 16), (10, 200, 10)).save(tmp_path / "in.png")
    _invoke("convert", "--model", str(out), "--direction", "a2b", str(tmp_path / "in.png"), str(tmp_path / "o.png"))
    assert (tmp_path / "o.png").is_file()
    voice = tmp_path / "voice.safetensors"
    _invoke("export", str(models["voice"]), str(voice), "--format", "safetensors")
    stats = runner.load_bundle(voice, "cpu").statistics  # tensors come back as lists, used as arrays
    assert stats["a"]["log_f0_mean"] == 4.8 and len(stats["a"]["envelope_mean"]) == 16


@pytest.mark.parametrize("task", ["voice", "music", "image"])
def test_onnx_export_matches_torch_on_another_input_size(models: dict[str, Path], tmp_path: Path, task: str) -> None:
    output = _invoke("export", str(models[task]), str(tmp_path / task), "--format", "onnx")
    assert (tmp_path / f"{task}_a2b.onnx").is_file() and (tmp_path / f"{task}_b2a.onnx").is_file()
    diffs = [float(x) for x in re.findall(r"max abs difference onnxruntime vs torch (\S+)", output)]
    assert len(diffs) == 2 and max(diffs) <= 1e-4, output


def test_export_errors_are_one_line(models: dict[str, Path], tmp_path: Path) -> None:
    with pytest.raises(CycleAudioError, match="pip install 'cycleaudio\\[export\\]'"):
        optional_module("no_such_module_for_cycleaudio")
    with pytest.raises(CycleAudioError, match="format must be"):
        api.export(models["image"], tmp_path / "x", format="tflite")
    lonely = tmp_path / "lonely.safetensors"
    lonely.write_bytes(b"")
    with pytest.raises(CycleAudioError, match="sidecar"):
        runner.load_bundle(lonely)
    with pytest.raises(CycleAudioError, match="already exists"):
        api.export(models["image"], models["voice"])
