"""Long recordings: cut at pauses into bounded pieces, converted on several workers, joined seamlessly."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from click.testing import CliRunner

from cycleaudio.cli import main
from cycleaudio.engine.bundle import ModelBundle
from cycleaudio.errors import CycleAudioError
from cycleaudio.runner import load_bundle
from cycleaudio.tasks.voice import VoiceConvertOptions
from cycleaudio.tasks.voice.audio import scan_levels
from cycleaudio.tasks.voice.chunks import BUCKET_SECONDS, CONTEXT_SECONDS, JoinedWriter, pause_cuts, plan_file, plan_pieces
from cycleaudio.tasks.voice.convert import convert_voice_files, world_pipeline
from cycleaudio.tasks.voice.synthetic import SAMPLE_RATE, SPEAKERS, synthesize_utterance

from .voice_data import write_training_pair

PAUSE = 0.4  # seconds of near-silence between the sentences of the long recording


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> ModelBundle:
    root = tmp_path_factory.mktemp("pieces")
    write_training_pair(root)
    exp = root / "exp"
    result = CliRunner().invoke(main, [
        "train", "vc_male2female_debug", "--out", str(exp), "--quiet",
        "--set", f"data.domain_a={root / 'male'}", "--set", f"data.domain_b={root / 'female'}",
        "--set", f"data.cache_dir={root / 'cache'}", "--set", "train.steps=1", "--set", "train.sample_every=0",
    ])
    assert result.exit_code == 0, result.output
    return load_bundle(exp, "cpu")


def long_recording(path: Path, seconds: float) -> np.ndarray:
    """Sentences of the synthetic male speaker with pauses between them, written as one WAV."""
    rng = np.random.default_rng(0)
    parts, total, sid = [], 0, 1
    while total < seconds * SAMPLE_RATE:
        parts += [synthesize_utterance(SPEAKERS["male"], sid), rng.normal(0, 1e-4, int(PAUSE * SAMPLE_RATE))]
        total += len(parts[-2]) + len(parts[-1])
        sid += 1
    wave = np.concatenate(parts)
    sf.write(str(path), wave, SAMPLE_RATE, subtype="PCM_16")
    return wave


def test_cuts_fall_in_pauses_and_bound_every_piece() -> None:
    levels = np.ones(3000)  # 30 s of 10 ms frames
    pauses = [(700, 720), (1300, 1330), (1650, 1670), (2150, 2170)]
    for a, b in pauses:
        levels[a:b] = 0.0
    cuts = pause_cuts(levels, 160.0, 3000 * 160, 10 * SAMPLE_RATE)
    assert cuts[0] == 0 and cuts[-1] == 3000 * 160
    assert max(np.diff(cuts)) <= 10 * SAMPLE_RATE
    for cut in cuts[1:-1]:
        assert any(a * 160 <= cut < b * 160 for a, b in pauses), cut


def test_joins_are_continuous_and_lose_no_samples(tmp_path: Path) -> None:
    total = 12 * SAMPLE_RATE
    cuts = [0, 4 * SAMPLE_RATE, 8 * SAMPLE_RATE + 123, total]
    pieces = plan_pieces(tmp_path / "x.wav", cuts, SAMPLE_RATE)
    signal = 0.3 * np.sin(2 * np.pi * 110 * np.arange(total) / SAMPLE_RATE)
    writer = JoinedWriter(tmp_path / "same.wav", SAMPLE_RATE)
    for piece in pieces:
        writer.add(piece, signal[piece.start:piece.stop])
    joined, _ = sf.read(str(writer.close()))
    assert len(joined) == total
    np.testing.assert_allclose(joined, signal, atol=1e-4)  # identical neighbours: the fade is invisible

    levels = [0.0, 0.5, -0.5]  # neighbours that disagree: a hard cut would step by 0.5 and 1.0
    writer = JoinedWriter(tmp_path / "steps.wav", SAMPLE_RATE)
    for piece, level in zip(pieces, levels):
        writer.add(piece, np.full(piece.stop - piece.start, level))
    joined, _ = sf.read(str(writer.close()))
    assert len(joined) == total
    assert np.max(np.abs(np.diff(joined))) < 0.002


def test_long_file_converts_in_bounded_pieces_on_every_worker(bundle: ModelBundle, tmp_path: Path) -> None:
    source, target = tmp_path / "long.wav", tmp_path / "out" / "long.wav"
    wave = long_recording(source, 30.0)
    piece_seconds = 6.0
    frames_seen: list[int] = []
    pipeline = world_pipeline(bundle, "a2b")

    def convert(frames):  # the generator's input length is what sets conversion memory
        frames_seen.append(frames.envelope.shape[0])
        return pipeline.convert(frames)

    options = VoiceConvertOptions(workers=2, progress=False, piece_seconds=piece_seconds)
    report = convert_voice_files(bundle, "a2b", source, target, options, replace(pipeline, convert=convert),
                                 checker=None)
    assert report.ok and report.written == [target] and report.metrics["workers"] == 2
    assert len(frames_seen) >= 5
    frame_period = bundle.recipe.features.frame_period / 1000
    assert max(frames_seen) <= (piece_seconds + 2 * CONTEXT_SECONDS + BUCKET_SECONDS) / frame_period + 1
    bucket_frames = round(BUCKET_SECONDS / frame_period)
    assert all((n - 1) % bucket_frames == 0 for n in frames_seen)  # few distinct generator input lengths
    assert abs(report.metrics["audio_seconds"] - len(wave) / SAMPLE_RATE) < 1e-6

    out, rate = sf.read(str(target))
    assert rate == SAMPLE_RATE and len(out) == len(wave)
    step = np.abs(np.diff(out))
    for piece in plan_file(source, SAMPLE_RATE, piece_seconds)[1:]:
        assert scan_levels(source, 0.01)[0][piece.cut_before // 160] < 1e-3  # the cut is in a pause
        near = step[piece.cut_before - 800:piece.cut_before + 800]
        assert near.max() <= np.percentile(step, 99.9)  # nothing at a join stands out: no click


def test_f0_method_is_chosen_per_conversion(bundle: ModelBundle, tmp_path: Path) -> None:
    source = tmp_path / "short.wav"
    sf.write(str(source), synthesize_utterance(SPEAKERS["male"], 7), SAMPLE_RATE, subtype="PCM_16")
    options = VoiceConvertOptions(f0_method="fast", progress=False)
    report = convert_voice_files(bundle, "a2b", source, tmp_path / "fast.wav", options, checker=None)
    assert report.ok and sf.info(str(tmp_path / "fast.wav")).frames == sf.info(str(source)).frames
    with pytest.raises(CycleAudioError, match="unknown F0 method 'crepe'; choose from harvest, dio, fast"):
        convert_voice_files(bundle, "a2b", source, tmp_path / "x.wav", VoiceConvertOptions(f0_method="crepe"),
                            checker=None)
