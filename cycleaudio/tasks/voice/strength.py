"""Choosing the edit strength (``convert --strength``) of a trained voice model on its validation files.

A GAN generator edits more than the evidence supports: part of each edit is the adversarial game's
noise, and a distance to the target speaker (MCD) counts that noise against the conversion.  How much of
the edit to keep is a property of the trained model, not of the recipe, so it is measured after training
on the files the training held out (``data.valid_*`` with ``data.valid_reference``), scored exactly as
the training's own validation scores them, and never on the files the conversion is evaluated on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import torch

from ...engine.bundle import ModelBundle
from ...errors import CycleAudioError
from ...progress import tqdm
from .convert import with_strength


@dataclass
class StrengthChoice:
    """Validation MCD [dB] of each strength tried, and the strength with the lowest."""

    mcd_db: dict[float, float]

    @property
    def best(self) -> float:
        return min(self.mcd_db, key=self.mcd_db.get)

    def lines(self) -> list[str]:
        return [f"strength {strength:g}: validation MCD {mcd:.3f} dB" for strength, mcd in self.mcd_db.items()]


def check_choosable(bundle: ModelBundle) -> None:
    """The model must have validated against references during training: that is where the files and
    the references to choose on are named."""
    recipe, where = bundle.recipe, bundle.source_path or "the model"
    if recipe.train.valid_every <= 0:
        raise CycleAudioError(f"{where}: its recipe held out no validation files (train.valid_every is 0), "
                              f"so there is nothing to choose the strength on")
    if not recipe.data.valid_reference:
        raise CycleAudioError(f"{where}: its recipe has no data.valid_reference (the target speaker saying the "
                              f"A validation files), which choosing the strength by MCD needs")


def choose_strength(bundle: ModelBundle, strengths: tuple[float, ...],
                    validator: Callable[[ModelBundle], dict[str, Any]]) -> StrengthChoice:
    """Validation MCD of ``bundle`` converting at each of ``strengths`` (``validator``: the task's
    validation of the model's recipe, :meth:`VoiceTask.validator`)."""
    scaled = [with_strength(bundle, strength) for strength in strengths]  # range errors before any work
    scores: dict[float, float] = {}
    with torch.no_grad():
        for strength, candidate in zip(strengths, tqdm(scaled, desc="strength", unit="strength")):
            scores[strength] = float(validator(candidate)["mcd"])
    return StrengthChoice(scores)
