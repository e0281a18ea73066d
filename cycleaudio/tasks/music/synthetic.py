"""Built-in synthetic MIDI: two clearly different, deterministic styles.

* ``classical``: legato scalar melodies in eighths and sixteenths over an Alberti bass (root - fifth -
  third - fifth in sixteenths), functional progressions ending on a V-I cadence, moderate tempo.
* ``pop``: I-V-vi-IV block chords struck on a syncopated, repeated rhythm, a bass on the root on beats
  1 and 3, a short repeated melodic hook with off-beat notes, backbeat stabs on beats 2 and 4, faster.

Both are written as real MIDI files and read back through the same parser as user data, so the
built-in set exercises the whole pipeline.  Song ``i`` of a style depends only on (style, i).
"""

from __future__ import annotations

import zlib
from pathlib import Path

import numpy as np
import pretty_midi

from ...files import replaced_atomically

STYLES = ("classical", "pop")
STEPS_PER_BAR = 16
MAJOR = np.array([0, 2, 4, 5, 7, 9, 11])
# progressions as scale degrees (0 = I)
CLASSICAL_PROGRESSIONS = ([0, 3, 4, 0], [0, 1, 4, 0], [0, 5, 3, 4], [0, 3, 1, 4])
POP_PROGRESSION = [0, 4, 5, 3]

Note = tuple[int, int, int, int]  # (pitch, start step, end step, velocity)


def _triad(tonic: int, degree: int) -> list[int]:
    """Pitches of the diatonic triad on ``degree`` of the major key whose tonic is ``tonic``."""
    return [tonic + MAJOR[(degree + k) % 7] + 12 * ((degree + k) // 7) for k in (0, 2, 4)]


def _scale_pitch(tonic: int, index: int) -> int:
    return tonic + MAJOR[index % 7] + 12 * (index // 7)


def _classical_bar(rng: np.random.Generator, tonic: int, degree: int, bar: int, melody_index: int,
                   final: bool) -> tuple[list[Note], int]:
    notes: list[Note] = []
    root, third, fifth = _triad(tonic - 12, degree)
    start = bar * STEPS_PER_BAR
    if final:
        notes += [(p, start, start + STEPS_PER_BAR, 60) for p in (root, third, fifth)]
    else:
        pattern = [root, fifth, third, fifth]
        notes += [(pattern[i % 4], start + i, start + i + 1, 55) for i in range(STEPS_PER_BAR)]
    step = 0
    chord_tones = {p % 12 for p in _triad(tonic, degree)}
    while step < STEPS_PER_BAR:
        if final:
            while _scale_pitch(tonic + 12, melody_index) % 12 != tonic % 12:
                melody_index -= 1
            notes.append((_scale_pitch(tonic + 12, melody_index), start + step, start + STEPS_PER_BAR, 75))
            break
        length = int(rng.choice([1, 2, 2, 4]))
        length = min(length, STEPS_PER_BAR - step)
        pitch = _scale_pitch(tonic + 12, melody_index)
        notes.append((pitch, start + step, start + step + length, 70 + int(rng.integers(0, 10))))
        direction = -1 if melody_index > 9 else 1 if melody_index < 2 else int(rng.choice([-1, 1, 1]))
        melody_index += direction * (1 if rng.random() < 0.8 or pitch % 12 in chord_tones else 2)
        step += length
    return notes, melody_index


def classical_song(index: int, bars: int = 16) -> tuple[list[Note], float]:
    rng = np.random.default_rng(zlib.crc32(f"classical-{index}".encode()))
    tonic = 60 + int(rng.integers(-5, 6))
    tempo = float(rng.uniform(84, 108))
    notes: list[Note] = []
    melody_index = int(rng.integers(2, 8))
    for phrase in range(bars // 4):
        progression = CLASSICAL_PROGRESSIONS[int(rng.integers(len(CLASSICAL_PROGRESSIONS)))]
        for k, degree in enumerate(progression):
            bar = phrase * 4 + k
            final = k == 3 and progression[-1] == 0
            bar_notes, melody_index = _classical_bar(rng, tonic, degree, bar, melody_index, final)
            notes += bar_notes
    return notes, tempo


def pop_song(index: int, bars: int = 16) -> tuple[list[Note], float]:
    rng = np.random.default_rng(zlib.crc32(f"pop-{index}".encode()))
    tonic = 60 + int(rng.integers(-5, 6))
    tempo = float(rng.uniform(100, 128))
    chord_hits = [(0, 3), (3, 3), (6, 4), (10, 2), (12, 4)] if rng.random() < 0.5 else [(0, 2), (3, 3), (8, 2), (11, 5)]
    hook_steps = sorted(rng.choice(np.arange(0, 16), size=6, replace=False).tolist())
    hook = [int(rng.choice([0, 2, 4, 7, 9])) for _ in hook_steps]
    notes: list[Note] = []
    for bar in range(bars):
        degree = POP_PROGRESSION[bar % 4]
        start = bar * STEPS_PER_BAR
        chord = _triad(tonic - 12 if degree > 2 else tonic, degree)
        for offset, length in chord_hits:
            notes += [(p, start + offset, start + offset + length, 80) for p in chord]
        root = chord[0] - 12 * (1 if chord[0] >= 48 else 0) - 12
        notes += [(root, start, start + 6, 90), (root, start + 8, start + 14, 90)]
        for stab in (4, 12):
            notes.append((chord[-1] + 12, start + stab + 1, start + stab + 2, 70))
        for (offset, pitch), nxt in zip(zip(hook_steps, hook), [*hook_steps[1:], 16]):
            notes.append((tonic + 12 + pitch, start + offset, start + min(nxt, offset + 2), 95))
    return notes, tempo


def song_midi(style: str, index: int, bars: int = 16) -> pretty_midi.PrettyMIDI:
    """Song ``index`` of ``style`` as a one-piano MIDI at the song's tempo."""
    if style not in STYLES:
        raise ValueError(f"style must be one of {STYLES}, got {style!r}")
    notes, tempo = (classical_song if style == "classical" else pop_song)(index, bars)
    step = 60.0 / tempo / 4
    midi = pretty_midi.PrettyMIDI(initial_tempo=tempo)
    piano = pretty_midi.Instrument(program=0, name="Piano")
    # a note that would overlap a still-sounding note of the same pitch is left out (one key, one note)
    notes = sorted(notes, key=lambda n: (n[1], n[0]))
    last_end: dict[int, int] = {}
    for pitch, a, b, velocity in notes:
        if last_end.get(pitch, -1) > a:
            continue
        last_end[pitch] = b
        piano.notes.append(pretty_midi.Note(int(velocity), int(pitch), a * step, b * step))
    midi.instruments.append(piano)
    return midi


def write_style(folder: Path, style: str, count: int, first: int = 0, bars: int = 16) -> list[Path]:
    """Write songs ``first .. first + count - 1`` of ``style`` into ``folder``; returns their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for index in range(first, first + count):
        path = folder / f"{style}_{index:04d}.mid"
        if not path.is_file():
            with replaced_atomically(path) as tmp:
                song_midi(style, index, bars).write(str(tmp))
        paths.append(path)
    return paths


def write_builtin(out: Path, train_songs: int = 40, test_songs: int = 8) -> Path:
    """The built-in set: ``out/{train,test}/{classical,pop}``; test songs never appear in train."""
    for style in STYLES:
        write_style(out / "train" / style, style, train_songs)
        write_style(out / "test" / style, style, test_songs, first=100_000)
    return out
