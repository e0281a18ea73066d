"""Voice features: reading any format, WORLD round trip, cache reuse, statistics, F0 transform."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from cycleaudio.errors import InputFileError
from cycleaudio.tasks.voice import audio
from cycleaudio.tasks.voice.audio import read_audio, write_audio
from cycleaudio.tasks.voice.features import domain_statistics, extract_features
from cycleaudio.tasks.voice.metrics import MCD_SCALE, score_features
from cycleaudio.tasks.voice.synthetic import SPEAKERS, synthesize_utterance
from cycleaudio.tasks.voice.world import WorldSettings, analyze, convert_f0, estimate_f0, guided_range, synthesize

from .voice_data import tone, write_speaker

SETTINGS = WorldSettings(f0_method="dio")


def test_any_rate_stereo_and_integer_format_is_read_as_mono_at_the_recipe_rate(tmp_path: Path) -> None:
    t = np.arange(44100) / 44100
    stereo = np.stack([np.sin(2 * np.pi * 200 * t), np.sin(2 * np.pi * 200 * t)], axis=1) * 0.5
    sf.write(tmp_path / "a.wav", stereo, 44100, subtype="PCM_24")
    wave = read_audio(tmp_path / "a.wav", 16000)
    assert wave.ndim == 1 and abs(len(wave) - 16000) <= 1
    assert 0.45 < np.max(np.abs(wave)) < 0.55


@pytest.mark.parametrize(
    "make, reason",
    [
        (lambda p: p.write_bytes(b""), "empty file"),
        (lambda p: p.write_bytes(b"this is not audio at all" * 20), "not a readable audio file"),
        (lambda p: p.write_bytes(open(p.with_name("good.wav"), "rb").read()[:30]), "not a readable audio file|holds no samples"),
        (lambda p: sf.write(p, np.zeros(16000), 16000), "is silent"),
        (lambda p: sf.write(p, tone(0.1), 16000), "shorter than the 0.64 s"),
    ],
    ids=["empty", "not-audio", "truncated", "silence", "too-short"],
)
def test_bad_files_get_one_line_reasons(tmp_path: Path, make, reason: str) -> None:
    sf.write(tmp_path / "good.wav", tone(1.0), 16000)
    bad = tmp_path / "bad.wav"
    make(bad)
    with pytest.raises(InputFileError, match=reason) as info:
        read_audio(bad, 16000, min_seconds=0.64)
    assert str(info.value).startswith(str(bad)) and "\n" not in str(info.value)


def test_world_round_trip_is_close_to_the_input() -> None:
    wave = synthesize_utterance(SPEAKERS["female"], 3)
    frames = analyze(wave, SETTINGS)
    again = analyze(synthesize(frames, SETTINGS), SETTINGS)
    n = min(len(frames.f0), len(again.f0))
    voiced = (frames.f0[:n] > 0) & (again.f0[:n] > 0)
    mcd = MCD_SCALE * np.sqrt(((frames.envelope[:n, 1:] - again.envelope[:n, 1:]) ** 2).sum(axis=1))
    assert np.mean(mcd[voiced]) < 5.0  # dB; two different speakers are ~9 dB apart
    ratio = again.f0[:n][voiced] / frames.f0[:n][voiced]
    assert np.median(np.abs(np.log2(ratio))) < 0.03  # F0 within ~36 cents


@pytest.mark.parametrize("speaker", ["male", "female"])
def test_fast_f0_searches_a_narrow_range_and_agrees_with_harvest(speaker: str) -> None:
    wave = synthesize_utterance(SPEAKERS[speaker], 5)
    harvest = WorldSettings(f0_method="harvest")
    reference, _ = estimate_f0(wave, harvest)
    fast, _ = estimate_f0(wave, WorldSettings(f0_method="fast"))
    dio, _ = estimate_f0(wave, WorldSettings(f0_method="dio"))
    floor, ceil = guided_range(dio, harvest)
    assert np.log2(ceil / floor) < np.log2(harvest.f0_ceil / harvest.f0_floor) - 0.5  # narrower than 71-800 Hz
    assert len(fast) == len(reference)
    both = (fast > 0) & (reference > 0)
    assert np.mean(np.abs(fast[both] / reference[both] - 1) > 0.2) < 0.02
    assert np.mean((fast > 0) == (reference > 0)) > 0.93  # one short synthetic sentence; real speech: bench
    assert guided_range(np.zeros(100), harvest) == (harvest.f0_floor, harvest.f0_ceil)  # no voice: full range


def test_features_are_cached_by_content_and_settings(tmp_path: Path) -> None:
    files = write_speaker(tmp_path / "wav", "male", [1, 2])
    cache = tmp_path / "cache"
    first, failed = extract_features(files, SETTINGS, cache, workers=2, progress=False)
    assert not failed and len(first) == 2
    cached = sorted(cache.rglob("*.npz"))
    stamps = [p.stat().st_mtime_ns for p in cached]
    renamed = files[0].rename(tmp_path / "wav" / "renamed.wav")
    second, _ = extract_features([renamed, files[1]], SETTINGS, cache, workers=1, progress=False)
    assert [p.stat().st_mtime_ns for p in sorted(cache.rglob("*.npz"))] == stamps  # hits, nothing rewritten
    np.testing.assert_array_equal(first[0].envelope, second[0].envelope)
    other = WorldSettings(f0_method="dio", envelope_dim=24)
    extract_features([renamed], other, cache, workers=1, progress=False)
    assert len(list(cache.rglob("*.npz"))) == 3  # new settings, new entry
    extract_features([renamed], WorldSettings(f0_method="fast"), cache, workers=1, progress=False)
    assert len(list(cache.rglob("*.npz"))) == 4  # another F0 method is another entry


def test_statistics_and_log_gaussian_f0_transform(tmp_path: Path) -> None:
    male, _ = extract_features(write_speaker(tmp_path / "m", "male", [1, 2]), SETTINGS, tmp_path / "c", workers=1, progress=False)
    female, _ = extract_features(write_speaker(tmp_path / "f", "female", [3, 4]), SETTINGS, tmp_path / "c", workers=1, progress=False)
    sm, sf_ = domain_statistics(male), domain_statistics(female)
    assert np.exp(sm["log_f0_mean"]) < 160 < np.exp(sf_["log_f0_mean"])
    f0 = male[0].f0
    converted = convert_f0(f0, (sm["log_f0_mean"], sm["log_f0_std"]), (sf_["log_f0_mean"], sf_["log_f0_std"]))
    assert np.all(converted[f0 == 0] == 0)
    logs = np.log(converted[f0 > 0])
    assert abs(logs.mean() - sf_["log_f0_mean"]) < 0.15


def test_log_f0_offset_keeps_its_sign_so_a_set_shows_its_pitch_bias() -> None:
    rng = np.random.default_rng(0)
    cepstrum = rng.normal(size=(50, 35))
    f0 = np.where(np.arange(50) % 10 < 7, 150.0, 0.0)
    up = score_features((cepstrum, f0 * 2 ** (100 / 1200)), (cepstrum, f0))
    down = score_features((cepstrum, f0 * 2 ** (-100 / 1200)), (cepstrum, f0))
    assert up.log_f0_offset_cents == pytest.approx(100.0) and down.log_f0_offset_cents == pytest.approx(-100.0)
    assert up.log_f0_mean_error_cents == pytest.approx(100.0) == down.log_f0_mean_error_cents
    assert abs(up.log_f0_offset_cents + down.log_f0_offset_cents) < 1e-6  # no bias over the set


def test_two_processes_writing_one_file_at_once_both_finish(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A second writer (another process) writes and renames the same file while the first is still
    writing, as two trainings filling the built-in voices' cache at once: both finish, the file is whole."""
    path = tmp_path / "voice.wav"
    pids = iter(range(1000, 1010))
    monkeypatch.setattr(os, "getpid", lambda: next(pids))
    real_write = audio.sf.write
    first, second = tone(0.2), 0.5 * tone(0.3)

    def write_while_another_process_writes(file: str, data: np.ndarray, *args: object, **kwargs: object) -> None:
        real_write(file, data, *args, **kwargs)
        if not (tmp_path / "second.done").exists():
            (tmp_path / "second.done").touch()
            write_audio(path, second, 16000)

    monkeypatch.setattr(audio.sf, "write", write_while_another_process_writes)
    write_audio(path, first, 16000)
    samples, rate = sf.read(path)
    assert rate == 16000 and len(samples) == len(first)
    assert np.allclose(samples, first, atol=1e-3)  # the first writer renamed last: its whole file
    assert sorted(p.name for p in tmp_path.iterdir()) == ["second.done", "voice.wav"]
