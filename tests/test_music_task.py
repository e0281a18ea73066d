"""The music task end to end: built-in data, mixed discriminators, classifier, CLI train -> convert -> evaluate."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pretty_midi
import pytest
import torch
from click.testing import CliRunner
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from cycleaudio.cli import main
from cycleaudio.config import from_dict
from cycleaudio.runner import load_recipe
from cycleaudio.engine.classifier import ClassifierSettings, DomainClassifier, train_classifier, transfer_strength
from cycleaudio.engine.cyclegan import CycleGAN
from cycleaudio.errors import CycleAudioError
from cycleaudio.runner import get_task
from cycleaudio.tasks.music.corpus import PhraseSource
from cycleaudio.tasks.music.synthetic import song_midi

RECIPES = Path(__file__).resolve().parent.parent / "recipes"
TINY = [
    "data.builtin_songs=4", "data.workers=1", "train.steps=3", "train.batch_size=4", "train.log_every=1",
    "train.sample_every=3", "train.checkpoint_every=3",
    "model.generator.args.channels=4", "model.generator.args.n_blocks=1",
    "model.discriminator.args.channels=4", "model.discriminator.args.wide_channels=8",
]


def test_builtin_styles_are_deterministic_and_different() -> None:
    first = song_midi("classical", 3).instruments[0].notes
    again = song_midi("classical", 3).instruments[0].notes
    assert [(n.pitch, n.start) for n in first] == [(n.pitch, n.start) for n in again]
    pop = song_midi("pop", 3)
    polyphony = lambda m: np.mean(m.get_piano_roll(fs=8).astype(bool).sum(0))  # noqa: E731
    assert polyphony(pop) > polyphony(song_midi("classical", 3))


def test_mixed_discriminators_enter_the_generator_loss_when_enabled() -> None:
    recipe = load_recipe(RECIPES / "music_classical2pop_debug.yaml", TINY)
    x = torch.rand(2, 1, 64, 84)
    for term, expected in ((True, True), (False, False)):
        recipe.loss.mixed_generator_term = term
        model = CycleGAN(recipe.model, recipe.loss)
        assert set(model.discriminators) == {"d_a", "d_b", "dm_a", "dm_b"}
        _, logs, _ = model.generator_loss(x, x, step=0)
        assert ("g_mixed" in logs) is expected


def test_prepare_gives_mixed_sources_and_statistics(tmp_path: Path) -> None:
    task = get_task("music")
    recipe = load_recipe(RECIPES / "music_classical2pop_debug.yaml", TINY)
    data = task.prepare(recipe, tmp_path)
    assert len(data.domain_a) == len(data.domain_b) == 16
    assert data.mixed_a is not None and len(data.mixed_a) == 32
    batch = data.domain_a.sample(3, torch.Generator().manual_seed(0))
    assert batch.shape == (3, 1, 64, 84) and batch.dtype == torch.float32
    assert data.statistics["a"]["pitch_class_histogram"].shape == (12,)
    recipe.loss.mixed = "full"
    with pytest.raises(CycleAudioError, match="data.c"):
        task.prepare(recipe, tmp_path)


def test_a_domain_without_usable_phrases_fails_clearly(tmp_path: Path) -> None:
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "x.mid").write_text("not midi")
    recipe = load_recipe(RECIPES / "music_classical2pop_debug.yaml", [*TINY, f"data.b={tmp_path / 'junk'}"])
    with pytest.raises(CycleAudioError, match="domain b: no usable phrases.*not a MIDI file"):
        get_task("music").prepare(recipe, tmp_path)


def test_velocity_needs_two_channel_networks(tmp_path: Path) -> None:
    recipe = load_recipe(RECIPES / "music_classical2pop_debug.yaml", [*TINY, "features.velocity=true"])
    with pytest.raises(CycleAudioError, match="in_channels"):
        get_task("music").prepare(recipe, tmp_path)


def test_classifier_learns_separable_domains_and_round_trips(tmp_path: Path) -> None:
    gen = torch.Generator().manual_seed(0)
    notes = (torch.rand(80, 1, 64, 84, generator=gen) < 0.05).to(torch.uint8)
    a, b = notes[:40].clone(), notes[40:].clone()
    a[..., 42:], b[..., :42] = 0, 0  # A plays low, B plays high
    settings = ClassifierSettings(steps=30, batch_size=8, lr=1e-3, log_every=10)
    network = {"name": "music_genre_cnn", "args": {"channels": 4}}
    classifier = train_classifier(network, PhraseSource(a[:30]), PhraseSource(b[:30]), a[30:].float(), b[30:].float(),
                                  settings, progress=False)
    assert classifier.accuracy > 0.9
    path = classifier.save(tmp_path / "classifier.pt", {"task": "x"})
    raw = torch.load(path, weights_only=True)
    assert raw["format"] == "cycleaudio-classifier" and raw["network"] == network
    loaded = DomainClassifier.load(tmp_path)
    assert torch.allclose(loaded.prob_a(a[30:].float()), classifier.prob_a(a[30:].float()))
    assert loaded.accuracy == classifier.accuracy and loaded.recipe == {"task": "x"}
    (tmp_path / "bad.pt").write_text("nope")
    with pytest.raises(CycleAudioError, match="not a readable cycleaudio classifier"):
        DomainClassifier.load(tmp_path / "bad.pt")


def test_transfer_strength_formula() -> None:
    s = transfer_strength(1.0, 0.0, 1.0, torch.tensor([0.8, 1.0]), 0.5, 0.7)
    assert s["S_A->B"] == pytest.approx(1.0)
    assert s["S_B->A"] == pytest.approx(0.5 * (0.9 - 0.5 + 0.7 - 0.5))
    assert s["S_tot"] == pytest.approx((s["S_A->B"] + s["S_B->A"]) / 2)


def _invoke(*args: str) -> str:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.e2e
def test_cli_train_convert_evaluate(tmp_path: Path) -> None:
    sets = [x for kv in TINY for x in ("--set", kv)]
    exp, cls = tmp_path / "exp", tmp_path / "cls"
    _invoke("train", "music_classical2pop_debug", "--out", str(exp), "--quiet", *sets)
    assert list((exp / "samples" / "step_0000003").glob("*.mid"))
    images = EventAccumulator(str(exp / "tb"), size_guidance={"images": 0}).Reload().Tags()["images"]
    assert {"piano_roll/a2b/0", "piano_roll/b2a/0"} <= set(images)  # source and transfer rolls per phrase
    _invoke("train", "music_classifier", "--out", str(cls), "--quiet", "--set", "data.builtin_songs=12",
            "--set", "data.workers=1", "--set", "train.steps=100", "--set", "model.args.channels=8",
            "--set", "train.lr=0.001")
    accuracy = json.loads((cls / "accuracy.json").read_text())["test_accuracy"]
    assert accuracy >= 0.75  # the built-in styles differ in texture and rhythm: easy to tell apart
    assert DomainClassifier.load(cls).accuracy == accuracy

    _invoke("builtin-data", "music", str(tmp_path / "songs"))
    ref = tmp_path / "songs" / "test"
    (ref / "classical").rename(ref / "a")
    (ref / "pop").rename(ref / "b")
    out, cyc = tmp_path / "out", tmp_path / "cyc"
    common = ["--model", str(exp), "--threshold", "0.3"]
    _invoke("convert", *common, "--direction", "a2b", str(ref / "a"), str(out / "a2b"), "--render")
    _invoke("convert", *common, "--direction", "b2a", str(ref / "b"), str(out / "b2a"), "--instrument", "40")
    _invoke("convert", *common, "--direction", "b2a", str(out / "a2b"), str(cyc / "a2b"))
    _invoke("convert", *common, "--direction", "a2b", str(out / "b2a"), str(cyc / "b2a"))
    source = pretty_midi.PrettyMIDI(str(ref / "a" / "classical_100000.mid"))
    written = pretty_midi.PrettyMIDI(str(out / "a2b" / "classical_100000.mid"))
    assert np.allclose(written.get_tempo_changes()[1], source.get_tempo_changes()[1])
    assert (out / "a2b" / "classical_100000.wav").is_file()
    assert all(i.program == 40 for i in pretty_midi.PrettyMIDI(str(out / "b2a" / "pop_100000.mid")).instruments)

    table = _invoke("evaluate", str(out), str(ref), "--cycled", str(cyc), "--classifier", str(cls),
                    "--json", str(tmp_path / "eval.json"))
    result = json.loads((tmp_path / "eval.json").read_text())
    assert result["task"] == "music" and "S_tot" in table
    assert {"P_A(x_A)", "P_A(x^_B)", "P_A(x~_A)", "content_difference", "pitch_class_distance"} <= set(result["a2b"])
    assert {"P_B(x_B)", "P_B(x^_A)", "P_B(x~_B)", "polyphony_transfer", "empty_beat_rate_transfer"} <= set(result["b2a"])
    assert result["S_tot"] == pytest.approx((result["S_A->B"] + result["S_B->A"]) / 2)

    _invoke("evaluate", str(out / "b2a"), str(ref / "a"), "--source", str(ref / "b"), "--json", str(tmp_path / "one.json"))
    single = json.loads((tmp_path / "one.json").read_text())
    assert single["transfer"]["songs"] == 8 and "S_tot" not in single


def test_convert_reports_bad_files_and_options(tmp_path: Path) -> None:
    exp = tmp_path / "exp"
    _invoke("train", "music_classical2pop_debug", "--out", str(exp), "--quiet",
            *[x for kv in [*TINY, "train.sample_every=0"] for x in ("--set", kv)])
    songs = tmp_path / "in"
    songs.mkdir()
    song_midi("pop", 1).write(str(songs / "good.mid"))
    (songs / "bad.mid").write_bytes(b"MThd garbage")
    result = CliRunner().invoke(main, ["convert", "--model", str(exp), "--direction", "b2a", str(songs), str(tmp_path / "o")])
    assert result.exit_code == 1 and "bad.mid: corrupt MIDI file" in result.output
    assert (tmp_path / "o" / "good.mid").is_file()
    result = CliRunner().invoke(main, ["convert", "--model", str(exp), "--direction", "b2a", "--threshold", "2",
                                       str(songs), str(tmp_path / "o2")])
    assert result.exit_code == 2 and "threshold" in result.output


def test_recipes_validate() -> None:
    for name in ("music_classical2pop", "music_classical2pop_cpu", "music_classical2pop_debug", "music_classifier"):
        recipe = load_recipe(RECIPES / f"{name}.yaml")
        assert recipe.description
    with pytest.raises(CycleAudioError, match="features"):
        from_dict(get_task("music").recipe_class, {"task": "music", "data": {}, "features": {"pitches": 83},
                                                   "model": {"generator": {"name": "music_resnet"},
                                                             "discriminator": {"name": "music_patchgan"}}})
