"""Music transfer that keeps the song: editing generator, BCE cycle loss, binarisation, song length, measures."""

from __future__ import annotations

from pathlib import Path

import mido
import numpy as np
import pretty_midi
import pytest
import torch
from torch.nn import functional as F

from cycleaudio import api
from cycleaudio.runner import load_recipe
from cycleaudio.engine.cyclegan import reconstruction_loss
from cycleaudio.tasks.music.nets import MusicResNetGenerator
from cycleaudio.errors import CycleAudioError, RecipeError
from cycleaudio.tasks.music import metrics
from cycleaudio.tasks.music.roll import RollSettings, SongRoll, load_song
from cycleaudio.tasks.music.synthetic import song_midi
from cycleaudio.tasks.music.settings import MusicConvertOptions
from cycleaudio.tasks.music.transfer import Binarisation, convert_file, transfer_song

RECIPES = Path(__file__).resolve().parent.parent / "recipes"
CPU_RECIPE = RECIPES / "music_classical2pop_cpu.yaml"
TINY_NETS = [
    "model.generator.args.channels=4", "model.generator.args.n_blocks=1",
    "model.discriminator.args.channels=4", "model.discriminator.args.wide_channels=8",
]


def _phrases(seed: int, count: int = 4, density: float = 0.05) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    return (torch.rand(count, 1, 64, 84, generator=gen) < density).float()


def test_editing_generator_starts_as_the_identity() -> None:
    x = _phrases(0)
    out = MusicResNetGenerator(channels=4, n_blocks=1, input_skip=3.0)(x)
    assert torch.equal(out >= 0.5, x.bool())
    paper = MusicResNetGenerator(channels=4, n_blocks=1)(x)
    assert not torch.equal(paper >= 0.5, x.bool())


def test_bce_reconstruction_weighs_on_cells() -> None:
    target = _phrases(1)
    output = torch.rand_like(target).clamp(0.01, 0.99)
    plain = F.binary_cross_entropy(output, target)
    assert reconstruction_loss(output, target, "bce") == pytest.approx(float(plain), rel=1e-5)
    weighted = reconstruction_loss(output, target, "bce", on_weight=5.0)
    manual = F.binary_cross_entropy(output, target, weight=1 + 4 * target)
    assert weighted == pytest.approx(float(manual), rel=1e-5)
    assert reconstruction_loss(output, target, "l1") == pytest.approx(float(F.l1_loss(output, target)))


def test_bad_loss_and_binarisation_options_are_one_line_errors() -> None:
    with pytest.raises(RecipeError, match="bce_on_weight must be > 0"):
        load_recipe(CPU_RECIPE, ["loss.bce_on_weight=0"])
    with pytest.raises(RecipeError, match="loss.cycle_loss must be one of 'l1', 'bce'"):
        load_recipe(CPU_RECIPE, ["loss.cycle_loss=l2"])
    with pytest.raises(RecipeError, match="threshold must be between 0 and 1"):
        load_recipe(CPU_RECIPE, ["features.threshold=1.5"])
    with pytest.raises(CycleAudioError, match="--binarize must be one of threshold, density"):
        Binarisation("top")
    with pytest.raises(ValueError, match="input_skip"):
        MusicResNetGenerator(input_skip=-1.0)


def test_density_binarisation_keeps_each_phrase_note_count() -> None:
    source = _phrases(2)[:, 0].bool()
    source[1] = False  # a silent source phrase stays silent
    probabilities = torch.rand(source.shape, generator=torch.Generator().manual_seed(3)) * 0.1  # all below 0.5
    notes = Binarisation("density").notes(probabilities, source)
    assert notes.flatten(1).sum(1).tolist() == source.flatten(1).sum(1).tolist()
    top = probabilities[0].flatten().topk(int(source[0].sum())).indices
    assert notes[0].flatten()[top].all()
    assert not Binarisation("threshold", 0.5).notes(probabilities, source).any()


def test_measures_of_kept_notes() -> None:
    source = torch.zeros(1, 64, 84)
    source[0, 0:4, 0] = 1      # C, onset at step 0
    source[0, 8:12, 4] = 1     # E, onset at step 8
    transfer = torch.zeros_like(source)
    transfer[0, 0:2, 0] = 1    # same onset, shorter: kept
    transfer[0, 7:12, 4] = 1   # starts a step early: not kept
    transfer[0, 20:22, 7] = 1  # a new G
    assert metrics.onset_retention(source, transfer) == pytest.approx(0.5)
    assert metrics.notes_per_bar(source, 16) == pytest.approx(2 / 4)
    assert metrics.notes_per_bar(transfer, 16) == pytest.approx(3 / 4)
    # source: C 4, E 4 note-steps; transfer: C 2, E 5, G 2 -> TV = (|.5-2/9| + |.5-5/9| + 2/9) / 2
    assert metrics.pitch_class_tv(source, transfer, 24) == pytest.approx((0.5 - 2 / 9 + 5 / 9 - 0.5 + 2 / 9) / 2)
    assert metrics.empty_rate(torch.stack([source[0], torch.zeros(64, 84)])) == pytest.approx(0.5)


def _song_with_silent_end(path: Path) -> Path:
    """Tempo 100 -> 75 BPM, 4/4 -> 3/4, notes for 6 bars, then 3 silent bars before the end of track."""
    mid = mido.MidiFile(ticks_per_beat=480)
    meta, notes = mido.MidiTrack(), mido.MidiTrack()
    mid.tracks += [meta, notes]
    meta.append(mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(100), time=0))
    meta.append(mido.MetaMessage("time_signature", numerator=4, denominator=4, time=0))
    meta.append(mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(75), time=4 * 480 * 2))
    meta.append(mido.MetaMessage("time_signature", numerator=3, denominator=4, time=0))
    meta.append(mido.MetaMessage("end_of_track", time=0))
    for beat in range(8 + 4 * 3):
        pitch = 60 + (beat * 5) % 12
        notes.append(mido.Message("note_on", note=pitch, velocity=80, time=0))
        notes.append(mido.Message("note_off", note=pitch, velocity=0, time=480))
    notes.append(mido.MetaMessage("end_of_track", time=3 * 3 * 480))
    mid.save(str(path))
    return path


@pytest.mark.parametrize("mode", ["threshold", "density"])
def test_transferred_song_keeps_length_tempo_map_and_metre(tmp_path: Path, mode: str) -> None:
    source = _song_with_silent_end(tmp_path / "song.mid")
    target = tmp_path / "out.mid"
    generator = MusicResNetGenerator(channels=4, n_blocks=1, input_skip=3.0)  # untrained: the identity
    convert_file(generator, source, load_song(source, RollSettings()), target, RollSettings(), 64, torch.device("cpu"),
                 Binarisation(mode), MusicConvertOptions())
    original, written = pretty_midi.PrettyMIDI(str(source)), pretty_midi.PrettyMIDI(str(target))
    assert mido.MidiFile(str(target)).length == pytest.approx(mido.MidiFile(str(source)).length)
    assert written.get_end_time() == pytest.approx(original.get_end_time())
    for got, want in zip(written.get_tempo_changes(), original.get_tempo_changes()):
        assert np.allclose(got, want)
    assert [(t.numerator, t.denominator, t.time) for t in written.time_signature_changes] == \
        [(t.numerator, t.denominator, t.time) for t in original.time_signature_changes]
    assert {(n.pitch, n.start) for n in written.instruments[0].notes} == \
        {(n.pitch, n.start) for n in original.instruments[0].notes}


def test_silenced_ending_keeps_the_source_length(tmp_path: Path) -> None:
    source = tmp_path / "song.mid"
    song_midi("pop", 0).write(str(source))
    generator = MusicResNetGenerator(channels=4, n_blocks=1, input_skip=3.0)
    with torch.no_grad():
        generator.net[-1].bias.fill_(-10.0)  # everything off: the transfer is silent
    target = tmp_path / "out.mid"
    sounding = convert_file(generator, source, load_song(source, RollSettings()), target, RollSettings(), 64,
                            torch.device("cpu"), Binarisation("threshold"), MusicConvertOptions())
    assert not sounding
    assert pretty_midi.PrettyMIDI(str(target)).get_end_time() == pytest.approx(
        pretty_midi.PrettyMIDI(str(source)).get_end_time())
    assert mido.MidiFile(str(target)).length == pytest.approx(mido.MidiFile(str(source)).length)


def test_short_training_transfers_keep_the_song(tmp_path: Path) -> None:
    """A few steps of the CPU recipe on built-in songs: transfers have notes and keep most onsets."""
    exp = tmp_path / "exp"
    api.train(CPU_RECIPE, exp, [*TINY_NETS, "data.builtin_songs=6", "data.workers=1", "train.steps=20",
                                "train.batch_size=4", "train.sample_every=0", "train.checkpoint_every=20",
                                "train.precision=fp32", "train.device=cpu"], progress=False)
    inputs = tmp_path / "in"
    for style, index in (("classical", 500), ("pop", 500)):
        (inputs / style).mkdir(parents=True)
        song_midi(style, index).write(str(inputs / style / f"{style}.mid"))
    for mode in ("threshold", "density"):
        out = tmp_path / mode
        report = api.convert(exp, "a2b", inputs / "classical", out / "a2b", device="cpu", binarize=mode)
        assert report.ok and report.metrics["empty_outputs"] == 0
        result = api.evaluate(out / "a2b", inputs / "pop", source=inputs / "classical")["transfer"]
        assert result["empty_rate"] == 0.0 and result["end_time_gap_max"] == pytest.approx(0.0, abs=1e-6)
        assert result["onset_retention"] >= 0.5
        assert 0.5 <= result["density_ratio"] <= 2.0
        assert result["pitch_class_tv"] <= 0.25


class _LateNotes(torch.nn.Module):
    """A 'generator' whose note probability grows with the step: it prefers a phrase's last steps."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        steps, pitches = torch.linspace(0.0, 0.4, x.shape[2]), torch.linspace(0.0, 0.001, x.shape[3])
        return (steps[:, None] + pitches[None, :]).expand_as(x).clone()


def test_density_never_puts_a_phrase_notes_into_its_padding() -> None:
    roll = np.zeros((1, 64 + 3, 84), dtype=np.uint8)
    roll[0, :, 40] = 1  # a held note through the song: the last phrase has 3 steps of it
    song = SongRoll(roll, np.arange(roll.shape[1] + 1) * 0.125)
    out = transfer_song(_LateNotes(), song, 64, Binarisation("density"), torch.device("cpu"))
    assert out.shape == roll.shape
    assert out[0, 64:].sum() == roll[0, 64:].sum() == 3
