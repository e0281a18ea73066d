"""What a music report shows: piano rolls and audio previews of source, transfer and cycle, the metrics.

Every roll is drawn on the source's beat grid (as the evaluation compares them), from the start of
the song for :data:`PREVIEW_BARS` bars of four beats, so the panels of a song line up.  The same roll
figure goes into TensorBoard at every sample point of a training.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import numpy as np
import pretty_midi
from matplotlib.figure import Figure

from ... import plots
from ...errors import CycleAudioError
from ...page import Page
from ..base import ReportInputs
from .evaluation import songs_by_name
from .roll import RollSettings, midi_to_roll, read_midi, roll_on_grid
from .transfer import render_wav

PREVIEW_BARS = 8
BEATS_PER_BAR = 4
STRENGTH_KEYS = ("S_A->B", "S_B->A", "S_tot")


def roll_figure(rolls: dict[str, np.ndarray], settings: RollSettings) -> Figure:
    """One piano-roll panel per (steps, pitches) on/off roll, labelled by its key; time in beats."""
    fig, axes = plots.figure(len(rolls), row_height=1.6)
    pitches = (settings.lowest_pitch, settings.lowest_pitch + settings.pitches)
    for ax, (label, roll) in zip(axes, rolls.items()):
        plots.image_panel(ax, roll.T, label, (0, roll.shape[0] / settings.steps_per_beat, *pitches), "MIDI pitch",
                          cmap="Greys", value_range=(0.0, 1.0))
    axes[-1].set_xlabel("beat", fontsize=8)
    return fig


def _first_seconds(midi: pretty_midi.PrettyMIDI, end: float) -> pretty_midi.PrettyMIDI:
    """A copy of ``midi`` with only the notes before ``end`` (cut there), for a short preview."""
    clipped = copy.deepcopy(midi)
    for instrument in clipped.instruments:
        instrument.notes = [pretty_midi.Note(n.velocity, n.pitch, n.start, min(n.end, end))
                            for n in instrument.notes if n.start < end]
    return clipped


def _groups(inputs: ReportInputs) -> list[tuple[str, Path, Path, Path | None]]:
    """(title, sources, transfers, cycled) folders: both directions (``a2b/``, ``b2a/`` with sources in
    ``REFERENCE/a``, ``REFERENCE/b``, as ``evaluate`` takes them) or one (``--source``)."""
    converted, cycled = inputs.converted, inputs.cycled
    if (converted / "a2b").is_dir() and (converted / "b2a").is_dir():
        if inputs.reference is None:
            raise CycleAudioError(f"{converted}: a2b/ and b2a/ need --reference with the sources in a/ and b/")
        return [(f"{d[0].upper()} -> {d[2].upper()}", inputs.reference / d[0], converted / d,
                 cycled / d if cycled else None) for d in ("a2b", "b2a")]
    if inputs.source is None:
        raise CycleAudioError(f"{converted}: pass --source with the songs these were transferred from")
    return [("transfer", inputs.source, converted, cycled)]


def _song(page: Page, name: str, source: Path, versions: dict[str, Path], settings: RollSettings) -> None:
    """Players and the first bars' rolls of ``source`` and its ``versions`` (transfer, cycle)."""
    page.heading(name, 4)
    midi = read_midi(source)
    song = midi_to_roll(midi, settings, source)
    steps = min(song.steps, PREVIEW_BARS * BEATS_PER_BAR * settings.steps_per_beat)
    times, end = song.times[: steps + 1], float(song.times[steps])
    rolls, players = {"source": song.roll[0, :steps]}, {"source": midi}
    for label, path in versions.items():
        players[label] = read_midi(path)
        rolls[label] = roll_on_grid(players[label], times, settings)[0]
    cells = []
    for label, played in players.items():
        wav = page.asset(f"{label}_{name}.wav")
        render_wav(_first_seconds(played, end), wav)
        cells.append([label, page.audio(wav)])
    page.table(["", f"first {PREVIEW_BARS} bars"], cells)
    page.add(page.figure(roll_figure(rolls, settings), f"roll_{name}", f"piano rolls of {name}"))


def _metrics(page: Page, result: dict[str, Any]) -> None:
    """Per-direction measures (as ``evaluate`` prints them), then transfer strength."""
    if "classifier_accuracy" in result:
        page.add(f"classifier: {result['classifier']} (test accuracy {result['classifier_accuracy']:.4f})")
    directions = [d for d in ("a2b", "b2a", "transfer") if d in result]
    keys = list(dict.fromkeys(k for d in directions for k in result[d] if k != "unmatched"))
    page.table(["", *directions], [[key, *(result[d].get(key, "") for d in directions)] for key in keys])
    strength = [[key, f"{result[key] * 100:.1f}%"] for key in STRENGTH_KEYS if key in result]
    if strength:
        page.table(["transfer strength", ""], strength)


def music_report(page: Page, inputs: ReportInputs) -> None:
    """The metrics, then per direction up to ``inputs.limit`` songs (by name) with rolls and previews."""
    page.heading("Music transfer")
    if inputs.evaluation:
        _metrics(page, inputs.evaluation)
    if inputs.converted is None:
        return
    settings = inputs.recipe.features.roll_settings() if inputs.recipe is not None else RollSettings()
    settings.velocity = False  # rolls show notes on/off
    for title, sources, transfers, cycled in _groups(inputs):
        page.heading(title, 3)
        source_files, cycled_files = songs_by_name(sources), songs_by_name(cycled) if cycled else {}
        for name, transfer in sorted(songs_by_name(transfers).items())[: inputs.limit]:
            if name not in source_files:
                page.add(f"{transfer}: no source {name}.mid in {sources}")
                continue
            versions = {"transfer": transfer, **({"cycle": cycled_files[name]} if name in cycled_files else {})}
            _song(page, name, source_files[name], versions, settings)
