"""In-domain checks at convert time: out-of-domain inputs warned about (refused with --strict), in-domain
inputs not, and checkpoints without the newer statistics still converting."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pretty_midi
import pytest
import torch
from click.testing import CliRunner

from cycleaudio import api
from cycleaudio.cli import main
from cycleaudio.jobs import JobReport
from cycleaudio.tasks.domain import DomainCheck, DomainGate, Measure
from cycleaudio.tasks.image.io import write_rgb
from cycleaudio.tasks.image.synthetic import synthetic_domain
from cycleaudio.tasks.music.synthetic import song_midi
from cycleaudio.tasks.voice.domain_check import check_frames, mel_checker
from cycleaudio.tasks.voice.features import Utterance, domain_statistics
from cycleaudio.tasks.voice.mel import MelAnalyzer, MelSettings, mel_statistics
from cycleaudio.tasks.voice.synthetic import SAMPLE_RATE, SPEAKERS, synthesize_utterance
from cycleaudio.tasks.voice.world import WorldFrames, WorldSettings, analyze

from .test_image_cli import TINY as IMAGE_TINY
from .test_music_task import TINY as MUSIC_TINY

RECIPES = Path(__file__).resolve().parent.parent / "recipes"


def _check(value: float) -> DomainCheck:
    return DomainCheck((Measure("pitch", value, 2.0, "pitch is off"), Measure("level", 0.5, 1.0, "level is off")))


def test_gate_warns_or_refuses_and_keeps_every_score() -> None:
    for strict in (False, True):
        report = JobReport()
        gate = DomainGate(report, _check, strict)
        assert gate.admit(Path("in.wav"), 1.0) and gate.admit(Path("out.wav"), 5.0) is not strict
        assert report.domain[Path("in.wav")] == {"domain_distance": 0.5, "in_domain": True, "pitch": 1.0, "level": 0.5}
        assert report.domain[Path("out.wav")]["domain_distance"] == 2.5
        flagged = report.failed if strict else report.warnings
        assert flagged == [(Path("out.wav"), "out of domain: pitch is off" + (" (refused by --strict)" if strict else ""))]
    report = JobReport()
    assert DomainGate(report, None, True, "no statistics").admit(Path("x.wav"), 5.0)
    assert not report.domain and report.notes == ["inputs not checked against the source domain: no statistics"]
    assert "note: inputs not checked" in report.summary()


def test_voice_check_without_the_voiced_range_of_older_checkpoints() -> None:
    """Statistics saved before ``log_f0_low/high`` still check the range (Gaussian percentiles)."""
    stats = {"envelope_mean": np.zeros(4), "envelope_std": np.ones(4), "log_f0_mean": float(np.log(120.0)),
             "log_f0_std": 0.1}
    rng = np.random.default_rng(0)
    envelope = rng.normal(size=(200, 4)) * 0.5
    own = WorldFrames(np.exp(np.log(120.0) + 0.1 * rng.normal(size=200)), envelope, np.zeros((200, 3)))
    assert not check_frames(own, stats).problems
    higher = check_frames(WorldFrames(own.f0 * 2.0, envelope, own.aperiodicity), stats)
    assert higher.as_dict()["f0_outside_share"] > 0.9 and len(higher.problems) == 2
    assert higher.problems[0].startswith("median F0 236 Hz is 6.8 std from the source speaker's 120 Hz")


def test_voice_checks_flag_noise_but_not_the_speaker() -> None:
    """WORLD and mel models: another sentence of the training speaker passes, white noise does not."""
    male = [synthesize_utterance(SPEAKERS["male"], sentence) for sentence in (0, 1)]
    other_sentence = synthesize_utterance(SPEAKERS["male"], 2, take=1)
    noise = 0.1 * np.random.default_rng(0).normal(size=SAMPLE_RATE)
    settings = WorldSettings()
    stats = domain_statistics([Utterance(Path(), frames.f0, frames.envelope)
                               for frames in (analyze(wave, settings) for wave in male)])
    assert not check_frames(analyze(other_sentence, settings), stats).problems
    assert check_frames(analyze(noise, settings), stats).problems[0].startswith("spectral envelope 0.9")
    mel = MelSettings(sample_rate=SAMPLE_RATE)
    check = mel_checker(mel, mel_statistics(MelAnalyzer(mel).batch(male)), "cpu")
    assert not check(other_sentence).problems
    assert check(noise).problems[0].startswith("log-mel spectrum")


def _old_checkpoint(exp: Path, drop: tuple[str, ...]) -> Path:
    """The experiment's checkpoint without the statistics ``drop`` (as saved before they existed)."""
    state = torch.load(exp / "checkpoints" / "latest.pt", weights_only=True)
    for domain in ("a", "b"):
        for key in drop:
            state["statistics"][domain].pop(key)
    path = exp / "old.pt"
    torch.save(state, path)
    return path


def _convert(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["convert", "--quiet", *args])
    assert "Traceback" not in result.output
    return result.exit_code, result.output


def _midi(notes: list[tuple[int, float, float]]) -> pretty_midi.PrettyMIDI:
    midi = pretty_midi.PrettyMIDI(initial_tempo=120)
    piano = pretty_midi.Instrument(program=0)
    piano.notes = [pretty_midi.Note(100, pitch, start, end) for pitch, start, end in notes]
    midi.instruments.append(piano)
    return midi


@pytest.mark.e2e
def test_music_flags_single_note_and_drum_like_songs(tmp_path: Path) -> None:
    exp = tmp_path / "exp"
    sets = [x for kv in [*MUSIC_TINY, "train.sample_every=0"] for x in ("--set", kv)]
    assert CliRunner().invoke(main, ["train", "music_classical2pop_debug", "--out", str(exp), "--quiet", *sets]).exit_code == 0
    songs = tmp_path / "in"
    songs.mkdir()
    for index in (100_000, 100_001):  # held-out classical songs: the source genre of a2b
        song_midi("classical", index).write(str(songs / f"classical_{index}.mid"))
    _midi([(60, k * 0.5, k * 0.5 + 0.4) for k in range(32)]).write(str(songs / "single.mid"))
    _midi([(pitch, k / 8, k / 8 + 0.06) for k in range(128) for pitch in ((36, 42) if k % 2 else (38, 42, 46))]
          ).write(str(songs / "drums.mid"))

    report = api.convert(exp, "a2b", songs, tmp_path / "out", device="cpu", progress=False)
    assert report.ok and len(report.written) == 4
    assert sorted(path.name for path, _ in report.warnings) == ["drums.mid", "single.mid"]
    assert all(report.domain[songs / f"classical_{i}.mid"]["in_domain"] for i in (100_000, 100_001))
    assert report.domain[songs / "single.mid"]["domain_distance"] > 1
    code, output = _convert("--model", str(exp), "--direction", "a2b", str(songs), str(tmp_path / "out"),
                            "--overwrite")
    assert code == 0 and "single.mid: out of domain: note density" in output

    code, output = _convert("--model", str(exp), "--direction", "a2b", "--strict", str(songs), str(tmp_path / "strict"))
    assert code == 1 and "2 written, 2 failed" in output and "drums.mid: out of domain" in output
    assert "refused by --strict" in output
    assert sorted(p.name for p in (tmp_path / "strict").glob("*.mid")) == ["classical_100000.mid", "classical_100001.mid"]

    old = _old_checkpoint(exp, ("polyphony", "pitch_low", "pitch_high", "pitch_span"))
    report = api.convert(old, "a2b", songs, tmp_path / "old", device="cpu", progress=False)
    assert len(report.written) == 4 and set(report.domain[songs / "single.mid"]) == {
        "domain_distance", "in_domain", "density_log2_ratio"}


@pytest.mark.e2e
def test_image_flags_a_flat_grey_image(tmp_path: Path) -> None:
    exp = tmp_path / "exp"
    sets = [x for kv in IMAGE_TINY for x in ("--set", kv)]
    assert CliRunner().invoke(main, ["train", str(RECIPES / "image_debug.yaml"), "--out", str(exp), "--quiet",
                                     *sets]).exit_code == 0
    images = tmp_path / "in"
    for i, image in enumerate(synthetic_domain("a", 3, 64, start=1000)):  # held-out images of the source domain
        write_rgb(image, images / f"a_{i}.png")
    write_rgb(torch.full((3, 40, 40), 128, dtype=torch.uint8), images / "grey.png")

    report = api.convert(exp, "a2b", images, tmp_path / "out", device="cpu", progress=False)
    assert report.ok and len(report.written) == 4
    assert [path.name for path, _ in report.warnings] == ["grey.png"] and "contrast" in report.warnings[0][1]
    assert sum(entry["in_domain"] for entry in report.domain.values()) == 3

    code, output = _convert("--model", str(exp), "--direction", "a2b", "--strict", str(images), str(tmp_path / "strict"))
    assert code == 1 and "3 written, 1 failed" in output and "grey.png: out of domain: contrast" in output
    assert not (tmp_path / "strict" / "grey.png").exists()

    old = _old_checkpoint(exp, ("std_rgb", "contrast"))
    code, output = _convert("--model", str(old), "--direction", "a2b", "--strict", str(images), str(tmp_path / "old"))
    assert code == 0 and "4 written" in output and "note: inputs not checked against the source domain" in output
