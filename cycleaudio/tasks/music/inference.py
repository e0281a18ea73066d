"""Music transfer of in-memory songs (``cycleaudio.load`` in a notebook): PrettyMIDI in, PrettyMIDI out,
through the same phrase cutting, generator and re-timing as file conversion."""

from __future__ import annotations

import pretty_midi

from ...engine.bundle import ModelBundle
from .settings import MusicConvertOptions
from .transfer import transfer_midi


class MusicTransfer:
    """``transfer(pm, direction, threshold, instrument)`` -> the transferred PrettyMIDI."""

    def __init__(self, bundle: ModelBundle) -> None:
        self.bundle = bundle

    def __repr__(self) -> str:
        return f"MusicTransfer(step {self.bundle.step})"

    def transfer(self, pm: pretty_midi.PrettyMIDI, direction: str = "a2b", threshold: float = 0.5,
                 instrument: int = 0) -> pretty_midi.PrettyMIDI:
        """``threshold`` binarises the piano roll; ``instrument`` is the output track's General MIDI program."""
        options = MusicConvertOptions(threshold=threshold, instrument=instrument)
        features = self.bundle.recipe.features
        out, _ = transfer_midi(self.bundle.generator(direction), pm, features.roll_settings(),
                               features.phrase_steps, self.bundle.input_device, options)
        return out
