"""Log-mel features: batching, caching, statistics, and the Griffin-Lim round trip."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cycleaudio.errors import RecipeError
from cycleaudio.runner import find_recipe
from cycleaudio.runner import load_recipe
from cycleaudio.tasks.voice.mel import MelAnalyzer, MelSettings, extract_mels, mel_statistics
from cycleaudio.tasks.voice.synthetic import SAMPLE_RATE, SPEAKERS, synthesize_utterance
from cycleaudio.tasks.voice.vocoder import GriffinLimVocoder

from .voice_data import write_speaker

SMALL = MelSettings(sample_rate=SAMPLE_RATE, n_fft=256, hop_length=64, n_mels=24)


def test_batched_analysis_equals_one_by_one() -> None:
    analyzer = MelAnalyzer(SMALL)
    waves = [synthesize_utterance(SPEAKERS["male"], 1), synthesize_utterance(SPEAKERS["female"], 2)[:3001]]
    batched = analyzer.batch(waves)
    for wave, mel in zip(waves, batched):
        (alone,) = analyzer.batch([wave])
        assert mel.shape == (SMALL.frames(len(wave)), SMALL.n_mels)
        np.testing.assert_allclose(mel, alone, atol=1e-4)


def test_extraction_caches_and_reports_bad_files(tmp_path: Path) -> None:
    files = write_speaker(tmp_path / "spk", "female", [1, 2])
    bad = tmp_path / "spk" / "broken.wav"
    bad.write_text("not audio")
    mels, failures = extract_mels([*files, bad], SMALL, tmp_path / "cache", workers=1, progress=False)
    assert [p for p, _ in mels] == files and failures[0][0] == bad and "not a readable audio file" in failures[0][1]
    cached = sorted((tmp_path / "cache" / "mel").rglob("*.npy"))
    assert len(cached) == 2
    stamps = [p.stat().st_mtime_ns for p in cached]
    again, _ = extract_mels(files, SMALL, tmp_path / "cache", workers=1, progress=False)
    assert [p.stat().st_mtime_ns for p in cached] == stamps  # served from the cache
    np.testing.assert_allclose(again[0][1], mels[0][1])
    other, _ = extract_mels(files[:1], MelSettings(SAMPLE_RATE, 256, 64, 16), tmp_path / "cache", 1, progress=False)
    assert other[0][1].shape[1] == 16  # changed settings: a new cache entry


def test_statistics_are_per_bin() -> None:
    stats = mel_statistics([np.random.default_rng(0).normal(2.0, 3.0, (500, 24)) for _ in range(2)])
    assert stats["mel_mean"].shape == (24,) and stats["files"] == 2
    np.testing.assert_allclose(stats["mel_std"].numpy(), 3.0, rtol=0.15)


def test_griffin_lim_round_trip_stays_within_bound() -> None:
    """Resynthesised speech must come back to nearly the same log-mel (phase is all Griffin-Lim loses)."""
    wave = synthesize_utterance(SPEAKERS["female"], 3)
    analyzer = MelAnalyzer(SMALL)
    (mel,) = analyzer.batch([wave])
    resynthesised = GriffinLimVocoder(SMALL, iterations=32)(mel)
    assert len(resynthesised) == mel.shape[0] * SMALL.hop_length
    (again,) = analyzer.batch([resynthesised[: len(wave)]])
    loud = mel.max(axis=1) > np.log(1e-2)  # frames with speech in them
    error = np.abs(again - mel)[loud].mean()
    noise = np.random.default_rng(0).normal(0, np.std(wave), len(wave))
    (noise_mel,) = analyzer.batch([noise])
    assert error < 0.5 and error < np.abs(noise_mel - mel)[loud].mean() / 3


def test_mel_recipe_validation() -> None:
    recipe = load_recipe(find_recipe("vc_mask_male2female"))
    assert recipe.features.kind == "mel" and recipe.features.dim == 80
    with pytest.raises(RecipeError, match="fmin/fmax"):
        load_recipe(find_recipe("vc_mask_male2female"), ["features.fmax=20000"])
    with pytest.raises(RecipeError, match="vocoder"):
        load_recipe(find_recipe("vc_male2female"), ["features.vocoder=griffin-lim"])


@pytest.mark.parametrize("name", ["vc_mask_male2female", "vc_vc3_male2female", "vocoder_female"])
def test_recipes_and_debug_siblings_are_fully_commented(name: str) -> None:
    for path in (find_recipe(name), find_recipe(f"{name}_debug")):
        load_recipe(path)
        lines = path.read_text().splitlines()
        assert lines[0].startswith("description:")
        assert all("#" in line for line in lines if line.strip()), path
