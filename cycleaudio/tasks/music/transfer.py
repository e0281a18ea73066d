"""Whole-song transfer: song -> phrases -> generator -> phrases -> song on the source's own grid.

Every phrase of the song (silent ones stay silent) goes through the generator in batches; the outputs
are put back in time order, binarised at ``threshold`` and written as notes on the source's step
times into a copy of the source MIDI, so tempo map, time signatures and timing are the source's.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import numpy as np
import pretty_midi
import soundfile
import torch
from torch import nn

from .corpus import cut_phrases, to_model_input
from .roll import RollSettings, SongRoll, midi_to_roll, read_midi, roll_to_midi

LOG = logging.getLogger("cycleaudio.music")
RENDER_RATE = 22050
#: a soundfont (.sf2) here makes ``--render`` use fluidsynth instead of pretty_midi's sine synthesis
SOUNDFONT_ENV = "CYCLEAUDIO_SOUNDFONT"


@torch.no_grad()
def transfer_phrases(generator: nn.Module, phrases: np.ndarray, threshold: float, device: torch.device,
                     batch_size: int = 32) -> np.ndarray:
    """Generator output of uint8 phrases (N, C, T, P), binarised (and velocity rescaled) as uint8."""
    out = np.zeros_like(phrases)
    for start in range(0, len(phrases), batch_size):
        x = to_model_input(torch.from_numpy(phrases[start:start + batch_size])).to(device)
        y = generator(x).float().cpu()
        on = y[:, 0] >= threshold
        out[start:start + batch_size, 0] = on.numpy()
        if phrases.shape[1] > 1:
            velocity = (y[:, 1] * 127).round().clamp(1, 127) * on
            out[start:start + batch_size, 1] = velocity.to(torch.uint8).numpy()
    return out


def transfer_song(generator: nn.Module, song: SongRoll, phrase_steps: int, threshold: float,
                  device: torch.device) -> np.ndarray:
    """The transferred roll of a whole song, same shape as ``song.roll``; silent phrases stay silent."""
    phrases, _ = cut_phrases(song.roll, phrase_steps, keep_empty=True)
    sounding = phrases[:, 0].reshape(len(phrases), -1).any(axis=1)
    result = np.zeros_like(phrases)
    if sounding.any():
        result[sounding] = transfer_phrases(generator, phrases[sounding], threshold, device)
    channels, steps, pitches = song.roll.shape
    joined = result.transpose(1, 0, 2, 3).reshape(channels, -1, pitches)
    return joined[:, :steps]


def write_midi(midi: pretty_midi.PrettyMIDI, target: Path) -> None:
    """Write atomically (temporary file + rename) so a failure never leaves half a file."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    midi.write(str(tmp))
    os.replace(tmp, target)


def render_wav(midi: pretty_midi.PrettyMIDI, target: Path) -> Path:
    """A WAV preview next to ``target``: fluidsynth with $CYCLEAUDIO_SOUNDFONT, else sine synthesis."""
    soundfont = os.environ.get(SOUNDFONT_ENV)
    audio = None
    if not any(inst.notes for inst in midi.instruments):  # silence, as long as the source
        audio = np.zeros(max(int(midi.get_end_time() * RENDER_RATE), RENDER_RATE // 10))
    elif soundfont and Path(soundfont).is_file():
        try:
            audio = midi.fluidsynth(fs=RENDER_RATE, sf2_path=soundfont)
        except (ImportError, OSError, ValueError) as exc:
            LOG.warning("fluidsynth rendering failed (%s); using sine synthesis", exc)
    if audio is None:
        audio = midi.synthesize(fs=RENDER_RATE)
    peak = float(np.abs(audio).max()) or 1.0
    wav = target.with_suffix(".wav")
    soundfile.write(str(wav), (audio / peak * 0.9).astype(np.float32), RENDER_RATE)
    return wav


def transfer_midi(generator: nn.Module, midi: pretty_midi.PrettyMIDI, settings: RollSettings, phrase_steps: int,
                  device: torch.device, options: Any, source: Path | str = "<midi>"
                  ) -> tuple[pretty_midi.PrettyMIDI, bool]:
    """(transferred song, whether it has notes) on ``midi``'s own grid, tempo map and time signatures."""
    song = midi_to_roll(midi, settings, source)
    roll = transfer_song(generator, song, phrase_steps, options.threshold, device)
    out = roll_to_midi(roll, song.times, settings, template=midi, program=options.instrument)
    return out, bool(roll[0].any())


def convert_file(generator: nn.Module, source: Path, target: Path, settings: RollSettings, phrase_steps: int,
                 device: torch.device, options: Any) -> bool:
    """Transfer one MIDI file into ``target``; returns False when the result has no notes (still written)."""
    out, sounding = transfer_midi(generator, read_midi(source), settings, phrase_steps, device, options, source)
    write_midi(out, target)
    if options.render:
        render_wav(out, target)
    return sounding
