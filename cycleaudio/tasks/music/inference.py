"""Music transfer of in-memory songs (``cycleaudio.load`` in a notebook): PrettyMIDI in, PrettyMIDI out,
through the same phrase cutting, generator and re-timing as file conversion."""

from __future__ import annotations

import pretty_midi

from ...engine.bundle import ModelBundle
from .transfer import binarisation_of, transfer_midi


class MusicTransfer:
    """``transfer(pm, direction, binarize, threshold, instrument)`` -> the transferred PrettyMIDI."""

    def __init__(self, bundle: ModelBundle) -> None:
        self.bundle = bundle

    def __repr__(self) -> str:
        return f"MusicTransfer(step {self.bundle.step})"

    def transfer(self, pm: pretty_midi.PrettyMIDI, direction: str = "a2b", binarize: str | None = None,
                 threshold: float | None = None, instrument: int = 0) -> pretty_midi.PrettyMIDI:
        """``binarize`` (threshold or density) and ``threshold`` turn note probabilities into notes (default:
        the recipe's); ``instrument`` is the output track's General MIDI program."""
        features = self.bundle.recipe.features
        binarisation = binarisation_of(features, binarize, threshold)
        out, _ = transfer_midi(self.bundle.generator(direction), pm, features.roll_settings(),
                               features.phrase_steps, self.bundle.input_device, binarisation, instrument)
        return out
