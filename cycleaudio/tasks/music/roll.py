"""MIDI <-> beat-grid piano roll.

A song becomes one roll of shape ``(steps, pitches)``: every non-drum instrument merged, pitches
``lowest .. lowest + pitches - 1``, ``steps_per_beat`` steps per beat of the file's own beat grid
(``pretty_midi`` beats, which follow every tempo change).  Quantising on beats instead of declared
bars keeps songs whose time-signature events are wrong or change (most of POP909 declares 1/4).

The step times travel with the roll, so a transferred roll is written back on the source's grid and
the output keeps the source's tempo map, time signatures and timing.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import mido
import numpy as np
import pretty_midi

from ...errors import InputFileError

#: refuse files beyond these limits (hostile or broken files, not music anyone wants to transfer)
MAX_TRACKS = 512
MAX_STEPS = 200_000
TEMPO_RANGE = (4.0, 1000.0)
MAX_BYTES = 64 * 1024 * 1024
#: text event written at the source's end time of every transfer
END_TEXT = "end"


@dataclass
class RollSettings:
    """The grid and pitch range of a roll (mirrors the recipe's ``features`` section)."""

    steps_per_beat: int = 4
    lowest_pitch: int = 24
    pitches: int = 84
    velocity: bool = False

    @property
    def channels(self) -> int:
        return 2 if self.velocity else 1

    def key(self) -> str:
        return f"spb{self.steps_per_beat}-lo{self.lowest_pitch}-n{self.pitches}-v{int(self.velocity)}"


@dataclass
class SongRoll:
    """A song on its beat grid: ``roll`` (channels, steps, pitches) uint8 and ``times`` (steps + 1) seconds.

    Channel 0 is note on/off (0/1); with velocity, channel 1 holds the velocity (0-127).
    """

    roll: np.ndarray
    times: np.ndarray

    @property
    def steps(self) -> int:
        return self.roll.shape[1]


def _why(exc: Exception) -> str:
    """A short one-line description of a parser exception."""
    lines = str(exc).splitlines()
    return f"{type(exc).__name__}: {lines[0][:80]}" if lines else type(exc).__name__


def read_midi(path: Path) -> pretty_midi.PrettyMIDI:
    """Parse a MIDI file, turning every way it can be broken into a one-line :class:`InputFileError`."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise InputFileError(path, f"cannot read ({exc.strerror or exc})") from None
    if len(data) > MAX_BYTES:
        raise InputFileError(path, f"file too large for a MIDI file ({len(data) // 2**20} MiB)")
    if not data.startswith(b"MThd"):
        raise InputFileError(path, "not a MIDI file (no MThd header)")
    try:
        parsed = mido.MidiFile(file=io.BytesIO(data), clip=True)
    except Exception as exc:  # mido raises many kinds for corrupt data
        raise InputFileError(path, f"corrupt MIDI file ({_why(exc)})") from None
    if len(parsed.tracks) > MAX_TRACKS:
        raise InputFileError(path, f"{len(parsed.tracks)} tracks (more than {MAX_TRACKS}); refusing")
    if parsed.type == 2:
        raise InputFileError(path, "MIDI type 2 (independent sequences) is not supported")
    for track in parsed.tracks:
        for message in track:
            if message.type == "set_tempo":
                bpm = mido.tempo2bpm(message.tempo) if message.tempo > 0 else float("inf")
                if not TEMPO_RANGE[0] <= bpm <= TEMPO_RANGE[1]:
                    low, high = TEMPO_RANGE
                    raise InputFileError(path, f"absurd tempo {bpm:.3g} BPM (allowed {low:g}-{high:g})")
    try:
        return pretty_midi.PrettyMIDI(mido_object=parsed)
    except Exception as exc:
        raise InputFileError(path, f"corrupt MIDI file ({_why(exc)})") from None


def step_times(midi: pretty_midi.PrettyMIDI, end: float, steps_per_beat: int) -> np.ndarray:
    """Times of the grid's step boundaries up to ``end``: beats subdivided evenly, extended past the last beat."""
    beats = np.asarray(midi.get_beats(), dtype=np.float64)
    if len(beats) < 2:  # a grid needs one beat length; 120 BPM when the file gives none
        start = float(beats[0]) if len(beats) else 0.0
        beats = np.array([start, start + 0.5])
    last_gap = beats[-1] - beats[-2]
    if beats[-1] < end:
        extra = int(np.ceil((end - beats[-1]) / last_gap)) + 1
        beats = np.concatenate([beats, beats[-1] + last_gap * np.arange(1, extra + 1)])
    fractions = np.arange(steps_per_beat) / steps_per_beat
    grid = (beats[:-1, None] + np.diff(beats)[:, None] * fractions[None, :]).ravel()
    return np.append(grid, beats[-1])


def midi_to_roll(midi: pretty_midi.PrettyMIDI, settings: RollSettings, path: Path | str = "<midi>") -> SongRoll:
    """The merged beat-grid roll of every non-drum note in ``midi``'s pitch range."""
    if not midi.instruments:
        raise InputFileError(path, "no notes (no instruments)")
    if all(inst.is_drum for inst in midi.instruments):
        raise InputFileError(path, "drums only (no pitched instrument)")
    low, high = settings.lowest_pitch, settings.lowest_pitch + settings.pitches
    notes = [n for inst in midi.instruments if not inst.is_drum for n in inst.notes]
    if not notes:
        raise InputFileError(path, "no notes")
    notes = [n for n in notes if low <= n.pitch < high and n.end > n.start]
    if not notes:
        raise InputFileError(path, f"no notes in the pitch range {low}-{high - 1}")
    end = max(n.end for n in notes)
    times = step_times(midi, end, settings.steps_per_beat)
    if len(times) - 1 > MAX_STEPS:
        raise InputFileError(path, f"too long ({len(times) - 1} grid steps, limit {MAX_STEPS})")
    roll = quantise(notes, times, settings)
    return SongRoll(roll, times[: roll.shape[1] + 1])


def quantise(notes: list[pretty_midi.Note], times: np.ndarray, settings: RollSettings,
             steps: int | None = None) -> np.ndarray:
    """Roll of ``notes`` on the grid ``times``: onsets and offsets snap to the nearest step boundary.

    ``steps`` fixes the length (notes beyond it are cut); by default the roll ends with the last note.
    """
    low = settings.lowest_pitch
    notes = [n for n in notes if low <= n.pitch < low + settings.pitches and n.end > n.start]
    first = _nearest_step(times, np.array([n.start for n in notes], dtype=np.float64))
    last = np.maximum(_nearest_step(times, np.array([n.end for n in notes], dtype=np.float64)), first + 1)
    if steps is None:
        steps = int(last.max()) if len(notes) else 0
    roll = np.zeros((settings.channels, steps, settings.pitches), dtype=np.uint8)
    for note, a, b in zip(notes, first, np.minimum(last, steps)):
        roll[0, a:b, note.pitch - low] = 1
        if settings.velocity:
            roll[1, a:b, note.pitch - low] = np.maximum(roll[1, a:b, note.pitch - low], note.velocity)
    return roll


def roll_on_grid(midi: pretty_midi.PrettyMIDI, times: np.ndarray, settings: RollSettings) -> np.ndarray:
    """Roll of every non-drum note of ``midi`` on another song's grid (``len(times) - 1`` steps; may be empty)."""
    notes = [n for inst in midi.instruments if not inst.is_drum for n in inst.notes]
    return quantise(notes, times, settings, steps=len(times) - 1)


def _nearest_step(times: np.ndarray, seconds: np.ndarray) -> np.ndarray:
    """Index of the grid boundary nearest to each time."""
    right = np.clip(np.searchsorted(times, seconds), 1, len(times) - 1)
    left = right - 1
    return np.where(seconds - times[left] <= times[right] - seconds, left, right).astype(np.int64)


def load_song(path: Path, settings: RollSettings) -> tuple[pretty_midi.PrettyMIDI, SongRoll]:
    """A MIDI file parsed once: the file and its roll (conversion checks the roll, then transfers the file)."""
    midi = read_midi(path)
    return midi, midi_to_roll(midi, settings, path)


def load_roll(path: Path, settings: RollSettings) -> SongRoll:
    return load_song(path, settings)[1]


def roll_to_notes(roll: np.ndarray, times: np.ndarray, settings: RollSettings, default_velocity: int = 100
                  ) -> list[pretty_midi.Note]:
    """Notes of a (channels, steps, pitches) roll: every run of active steps is one note on the grid."""
    on = roll[0] > 0
    steps = on.shape[0]
    padded = np.zeros((steps + 2, on.shape[1]), dtype=np.int8)
    padded[1:-1] = on
    edges = np.diff(padded, axis=0)
    notes = []
    for pitch in range(on.shape[1]):
        begins = np.flatnonzero(edges[:, pitch] == 1)
        finishes = np.flatnonzero(edges[:, pitch] == -1)
        for a, b in zip(begins, finishes):
            velocity = default_velocity
            if settings.velocity and roll.shape[0] > 1:
                velocity = int(np.clip(round(float(roll[1, a:b, pitch].mean())), 1, 127))
            notes.append(pretty_midi.Note(velocity, pitch + settings.lowest_pitch, float(times[a]), float(times[b])))
    notes.sort(key=lambda n: (n.start, n.pitch))
    return notes


def roll_to_midi(roll: np.ndarray, times: np.ndarray, settings: RollSettings,
                 template: pretty_midi.PrettyMIDI | None = None, program: int = 0) -> pretty_midi.PrettyMIDI:
    """A one-track MIDI of ``roll`` placed on ``times``.

    With a ``template`` (the source song) the output keeps its resolution, tempo map, time and key
    signatures, so timing matches the source; without, it is written at 120 BPM.  It also keeps the
    source's end: notes are cut there and a text event "end" marks it (MIDI readers such as
    pretty_midi take the last event as the end), so a song whose last bars are silent, or become
    silent in a transfer, is exactly as long as its source.
    """
    instrument = pretty_midi.Instrument(program=program, name=pretty_midi.program_to_instrument_name(program))
    notes = roll_to_notes(roll, times, settings)
    if template is None:
        out = pretty_midi.PrettyMIDI(initial_tempo=120.0)
    else:
        end = template.get_end_time()
        out = template
        out.instruments, out.lyrics, out.text_events = [], [], [pretty_midi.Text(END_TEXT, end)]
        notes = [n for n in notes if n.start < end]
        for note in notes:
            note.end = min(note.end, end)
    instrument.notes = notes
    out.instruments.append(instrument)
    return out


def _absolute_ticks(track: mido.MidiTrack) -> list[tuple[int, mido.Message]]:
    ticks = np.cumsum([message.time for message in track]).tolist()
    return list(zip(ticks, track))


def keep_source_timing(midi_bytes: bytes, source: Path) -> mido.MidiFile:
    """The MIDI file ``midi_bytes`` with the exact tempo values and end of ``source``.

    pretty_midi writes tempo changes at the source's ticks but truncates their values to whole
    microseconds per beat (a drift of up to about a millisecond over a long song), and ends each
    track one tick after its last event.  Here every tempo change at a tick where the source has one
    takes the source's value, and every end-of-track event moves to the source's last tick (or right
    after the track's last event, if that is later).
    """
    original = mido.MidiFile(str(source), clip=True)
    tempos = {tick: message.tempo for track in original.tracks
              for tick, message in _absolute_ticks(track) if message.type == "set_tempo"}
    end_tick = max((sum(message.time for message in track) for track in original.tracks), default=0)
    parsed = mido.MidiFile(file=io.BytesIO(midi_bytes))
    for track in parsed.tracks:
        for tick, message in _absolute_ticks(track):
            if message.type == "set_tempo" and tick in tempos:
                message.tempo = tempos[tick]
        if track and track[-1].type == "end_of_track":
            track[-1].time = max(end_tick - sum(message.time for message in track[:-1]), 0)
    return parsed


def phrase_grid_times(steps: int, steps_per_beat: int, bpm: float = 120.0) -> np.ndarray:
    """Step times of a roll with no source (samples, built-in data): a steady tempo."""
    return np.arange(steps + 1) * (60.0 / bpm / steps_per_beat)
