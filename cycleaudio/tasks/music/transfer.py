"""Whole-song transfer: song -> phrases -> generator -> phrases -> song on the source's own grid.

Every phrase of the song (silent ones stay silent) goes through the generator in batches; the outputs
are put back in time order, binarised and written as notes on the source's step times into a copy of
the source MIDI, so tempo map, time signatures, timing and end time are the source's.

Binarisation (``Binarisation``): ``threshold`` keeps the cells whose note probability reaches a fixed
threshold; ``density`` keeps, in every phrase, as many of the most probable cells as the source
phrase has sounding cells, so a transfer is never silent where its source plays and keeps its
source's number of note-steps however confident the generator is.
"""

from __future__ import annotations

import io
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pretty_midi
import soundfile
import torch
from torch import nn

from ...errors import CycleAudioError
from ...files import replaced_atomically
from .corpus import cut_phrases, to_model_input
from .roll import RollSettings, SongRoll, keep_source_timing, midi_to_roll, roll_to_midi

LOG = logging.getLogger("cycleaudio.music")
RENDER_RATE = 22050
#: a soundfont (.sf2) here makes ``--render`` use fluidsynth instead of pretty_midi's sine synthesis
SOUNDFONT_ENV = "CYCLEAUDIO_SOUNDFONT"
BINARISATIONS = ("threshold", "density")


@dataclass
class Binarisation:
    """How note probabilities become notes: ``mode`` ``threshold`` or ``density`` (see the module)."""

    mode: str = "threshold"
    threshold: float = 0.5

    def __post_init__(self) -> None:
        if self.mode not in BINARISATIONS:
            raise CycleAudioError(f"--binarize must be one of {', '.join(BINARISATIONS)}, got {self.mode!r}")
        if not 0.0 < self.threshold < 1.0:
            raise CycleAudioError(f"--threshold must be between 0 and 1, got {self.threshold}")

    def notes(self, probabilities: torch.Tensor, source: torch.Tensor) -> torch.Tensor:
        """Boolean (N, steps, pitches) notes from probabilities and the source phrases' on/off cells."""
        if self.mode == "threshold":
            return probabilities >= self.threshold
        flat = probabilities.flatten(1)
        count = source.flatten(1).sum(dim=1).long()
        ranked = flat.sort(dim=1, descending=True).values
        cutoff = ranked.gather(1, (count - 1).clamp_min(0).unsqueeze(1))
        return ((flat >= cutoff) & (count > 0).unsqueeze(1)).view_as(probabilities)


def binarisation_of(features: Any, binarize: str | None = None, threshold: float | None = None) -> Binarisation:
    """``binarize``/``threshold`` where given (convert options), else the recipe's ``features``."""
    return Binarisation(binarize or features.binarize, features.threshold if threshold is None else threshold)


@torch.no_grad()
def transfer_phrases(generator: nn.Module, phrases: np.ndarray, binarisation: Binarisation, device: torch.device,
                     steps: np.ndarray | None = None, batch_size: int = 32) -> np.ndarray:
    """Generator output of uint8 phrases (N, C, T, P), binarised (and velocity rescaled) as uint8.

    ``steps`` (N,) is how many steps of each phrase belong to the song (the last phrase of a song is
    padded); no note is placed after them, so a phrase's notes never vanish into its padding.
    """
    out = np.zeros_like(phrases)
    length = phrases.shape[2]
    for start in range(0, len(phrases), batch_size):
        source = torch.from_numpy(phrases[start:start + batch_size])
        y = generator(to_model_input(source).to(device)).float().cpu()
        probabilities = y[:, 0]
        if steps is not None:
            padding = torch.arange(length)[None, :] >= torch.from_numpy(steps[start:start + batch_size])[:, None]
            probabilities = probabilities.masked_fill(padding[:, :, None], -1.0)
        on = binarisation.notes(probabilities, source[:, 0] > 0)
        out[start:start + batch_size, 0] = on.numpy()
        if phrases.shape[1] > 1:
            velocity = (y[:, 1] * 127).round().clamp(1, 127) * on
            out[start:start + batch_size, 1] = velocity.to(torch.uint8).numpy()
    return out


def transfer_song(generator: nn.Module, song: SongRoll, phrase_steps: int, binarisation: Binarisation,
                  device: torch.device) -> np.ndarray:
    """The transferred roll of a whole song, same shape as ``song.roll``; silent phrases stay silent."""
    phrases, _ = cut_phrases(song.roll, phrase_steps, keep_empty=True)
    sounding = phrases[:, 0].reshape(len(phrases), -1).any(axis=1)
    in_song = np.clip(song.steps - np.arange(len(phrases)) * phrase_steps, 0, phrase_steps)
    result = np.zeros_like(phrases)
    if sounding.any():
        result[sounding] = transfer_phrases(generator, phrases[sounding], binarisation, device, in_song[sounding])
    channels, steps, pitches = song.roll.shape
    joined = result.transpose(1, 0, 2, 3).reshape(channels, -1, pitches)
    return joined[:, :steps]


def write_midi(midi: pretty_midi.PrettyMIDI, target: Path, source: Path | None = None) -> None:
    """Write atomically (temporary file + rename) so a failure never leaves half a file.

    With the ``source`` file the transfer was made from, its exact tempo values and end-of-track
    tick are kept, so the transfer plays exactly as long as its source.
    """
    with replaced_atomically(target) as tmp:
        if source is None:
            midi.write(str(tmp))
        else:
            buffer = io.BytesIO()
            midi.write(buffer)
            keep_source_timing(buffer.getvalue(), source).save(str(tmp))


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
                  device: torch.device, binarisation: Binarisation, program: int = 0,
                  source: Path | str = "<midi>") -> tuple[pretty_midi.PrettyMIDI, bool]:
    """(transferred song, whether it has notes) on ``midi``'s own grid, tempo map and time signatures."""
    return transfer_parsed(generator, midi, midi_to_roll(midi, settings, source), settings, phrase_steps, device,
                           binarisation, program)


def transfer_parsed(generator: nn.Module, midi: pretty_midi.PrettyMIDI, song: SongRoll, settings: RollSettings,
                    phrase_steps: int, device: torch.device, binarisation: Binarisation, program: int = 0
                    ) -> tuple[pretty_midi.PrettyMIDI, bool]:
    """:func:`transfer_midi` of a song whose roll ``song`` the caller already made from ``midi``."""
    roll = transfer_song(generator, song, phrase_steps, binarisation, device)
    out = roll_to_midi(roll, song.times, settings, template=midi, program=program)
    return out, bool(roll[0].any())


def convert_file(generator: nn.Module, source: Path, parsed: tuple[pretty_midi.PrettyMIDI, SongRoll], target: Path,
                 settings: RollSettings, phrase_steps: int, device: torch.device, binarisation: Binarisation,
                 options: Any) -> bool:
    """Transfer one MIDI file, ``parsed`` by :func:`load_song`, into ``target``; returns False when the result
    has no notes (still written)."""
    midi, song = parsed
    out, sounding = transfer_parsed(generator, midi, song, settings, phrase_steps, device, binarisation,
                                    options.instrument)
    write_midi(out, target, source)
    if options.render:
        render_wav(out, target)
    return sounding
