"""Evaluation of transferred songs: classifier probabilities, transfer strength, roll statistics.

Folder layout (what ``egs/pop909_pianomidi/run.sh`` writes; relative paths match across folders)::

    REFERENCE/a, REFERENCE/b        real test songs of each domain (the inputs of the transfers)
    CONVERTED/a2b, CONVERTED/b2a    their transfers (``convert --direction a2b REFERENCE/a CONVERTED/a2b``)
    CYCLED/a2b, CYCLED/b2a          the transfers sent back (``convert --direction b2a CONVERTED/a2b CYCLED/a2b``)

Each transfer is compared phrase by phrase with its source on the source's beat grid (the transfer
keeps the source's tempo map), over the phrases where the source has notes: what was kept (onset
retention, pitch-class distance, notes per bar, empty rate; see ``metrics``) and whether the song
kept its length (largest end-time difference of a transfer and its source, seconds).  With a
classifier (``--classifier``), P_A / P_B of real, transferred and cycled phrases give S_A->B, S_B->A
and S_tot, and the target-genre share is the share of transferred phrases it assigns to the target.
A single direction is evaluated too: CONVERTED holds transfers only, ``--source`` their inputs, and
REFERENCE real songs of the target domain (the direction is the one the classifier finds).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pretty_midi
import torch

from ...engine.classifier import DomainClassifier, transfer_strength
from ...errors import CycleAudioError, InputFileError
from ...jobs import find_inputs
from . import metrics
from .corpus import SUFFIXES, cut_phrases, load_folder
from .roll import RollSettings, midi_to_roll, read_midi, roll_on_grid

#: bars of notes-per-bar are 4 beats (the phrase grid's 4/4 bars)
BEATS_PER_BAR = 4


@dataclass
class Aligned:
    """Phrases of sources and their transfers (and cycled versions) on the sources' grids, on/off only."""

    source: torch.Tensor
    transfer: torch.Tensor
    cycled: torch.Tensor | None
    songs: int
    missing: list[str]
    end_gap: float


def songs_by_name(folder: Path) -> dict[str, Path]:
    """The MIDI files below ``folder`` by relative path without suffix (how folders are paired); none
    when there is no such folder."""
    if not folder.is_dir():
        return {}
    return {str(p.relative_to(folder).with_suffix("")): p for p in find_inputs(folder, SUFFIXES)}


def _aligned_phrases(source: Path, transfer: Path, cycled: Path | None, settings: RollSettings,
                     phrase_steps: int) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, float]:
    """Non-empty source phrases, the matching transfer (and cycled) phrases on the source's grid, and
    the difference of the transfer's and the source's end times in seconds.

    ``cycled`` None means there is no cycled file; an empty transfer's cycle is then empty too (the
    converter refuses note-less input, and silent phrases stay silent), anything else is an error.
    """
    source_midi = read_midi(source)
    end = source_midi.get_end_time()
    song = midi_to_roll(source_midi, settings, source)
    phrases, keep = cut_phrases(song.roll, phrase_steps)

    def on_grid(midi: pretty_midi.PrettyMIDI) -> np.ndarray:
        roll = roll_on_grid(midi, song.times, settings)
        return cut_phrases(roll, phrase_steps, keep_empty=True)[0][keep]

    transfer_midi = read_midi(transfer)
    back = on_grid(read_midi(cycled)) if cycled is not None else None
    return phrases, on_grid(transfer_midi), back, transfer_midi.get_end_time() - end


def align(sources: Path, transfers: Path, cycled: Path | None, settings: RollSettings, phrase_steps: int) -> Aligned:
    """Pair every transfer with its source (and cycled version) by relative path without suffix."""
    source_files, cycled_files = songs_by_name(sources), songs_by_name(cycled) if cycled else {}
    parts: list[list[np.ndarray]] = [[], [], []]
    missing: list[str] = []
    songs, end_gap = 0, 0.0
    for stem, transfer in sorted(songs_by_name(transfers).items()):
        if stem not in source_files:
            missing.append(f"{transfer}: no source {stem}.mid in {sources}")
            continue
        try:
            src, out, back, gap = _aligned_phrases(source_files[stem], transfer, cycled_files.get(stem), settings,
                                              phrase_steps)
        except InputFileError as exc:
            missing.append(str(exc))
            continue
        if cycled is not None and back is None:
            if out.any():
                raise CycleAudioError(f"{cycled}: no cycled song {stem}.mid for the transfer {transfer}")
            back = out
        songs += 1
        end_gap = max(end_gap, abs(gap))
        parts[0].append(src[:, 0])
        parts[1].append(out[:, 0])
        if back is not None:
            parts[2].append(back[:, 0])
    if not parts[0]:
        raise CycleAudioError(f"{transfers}: no transfer could be matched with a source in {sources}")
    stack = lambda xs: torch.from_numpy(np.concatenate(xs))  # noqa: E731
    return Aligned(stack(parts[0]), stack(parts[1]), stack(parts[2]) if parts[2] else None, songs, missing, end_gap)


def roll_measures(aligned: Aligned, settings: RollSettings, steps_per_beat: int) -> dict[str, float]:
    src, out = aligned.source, aligned.transfer
    bar_steps = BEATS_PER_BAR * steps_per_beat
    density = (metrics.notes_per_bar(src, bar_steps), metrics.notes_per_bar(out, bar_steps))
    return {
        "songs": aligned.songs,
        "phrases": int(src.shape[0]),
        "onset_retention": metrics.onset_retention(src, out),
        "pitch_class_tv": metrics.pitch_class_tv(src, out, settings.lowest_pitch),
        "notes_per_bar_source": density[0],
        "notes_per_bar_transfer": density[1],
        "density_ratio": density[1] / density[0] if density[0] else float("nan"),
        "empty_rate": metrics.empty_rate(out),
        "end_time_gap_max": aligned.end_gap,
        "content_difference": metrics.content_difference(src, out),
        "pitch_class_distance": metrics.pitch_class_distance(src, out, settings.lowest_pitch),
        "polyphony_source": metrics.polyphony(src),
        "polyphony_transfer": metrics.polyphony(out),
        "empty_beat_rate_source": metrics.empty_beat_rate(src, steps_per_beat),
        "empty_beat_rate_transfer": metrics.empty_beat_rate(out, steps_per_beat),
    }


def _prob_a(classifier: DomainClassifier, phrases: torch.Tensor) -> torch.Tensor:
    return classifier.prob_a(phrases.unsqueeze(1).float())


def direction_report(aligned: Aligned, source_domain: str, classifier: DomainClassifier | None,
                     settings: RollSettings, steps_per_beat: int) -> dict[str, Any]:
    """Measures of one direction; P_X is the probability of the source domain X."""
    report: dict[str, Any] = roll_measures(aligned, settings, steps_per_beat)
    if classifier is not None:
        x, y = source_domain.upper(), "B" if source_domain == "a" else "A"
        flip = (lambda p: p) if source_domain == "a" else (lambda p: 1.0 - p)
        report[f"P_{x}(x_{x})"] = float(flip(_prob_a(classifier, aligned.source)).mean())
        transferred = flip(_prob_a(classifier, aligned.transfer))
        report[f"P_{x}(x^_{y})"] = float(transferred.mean())
        report["target_share"] = float((transferred < 0.5).float().mean())
        if aligned.cycled is not None:
            report[f"P_{x}(x~_{x})"] = float(flip(_prob_a(classifier, aligned.cycled)).mean())
    if aligned.missing:
        report["unmatched"] = aligned.missing
    return report


def _strength(reports: dict[str, dict[str, Any]]) -> dict[str, float]:
    a, b = reports["a2b"], reports["b2a"]
    keys_a, keys_b = ("P_A(x_A)", "P_A(x^_B)", "P_A(x~_A)"), ("P_B(x_B)", "P_B(x^_A)", "P_B(x~_B)")
    if not all(k in a for k in keys_a) or not all(k in b for k in keys_b):
        return {}
    return transfer_strength(*(a[k] for k in keys_a), *(b[k] for k in keys_b))


def evaluate_music(converted: Path, reference: Path, source: Path | None, options: Any,
                   classifier: DomainClassifier | None, settings: RollSettings, phrase_steps: int,
                   steps_per_beat: int) -> dict[str, Any]:
    """See the module docstring; ``classifier`` None leaves out probabilities and transfer strength."""
    cycled = Path(options.cycled) if options.cycled else None
    result: dict[str, Any] = {"task": "music"}
    if classifier is not None:
        result["classifier"] = str(options.classifier)
        result["classifier_accuracy"] = classifier.accuracy
    if (converted / "a2b").is_dir() and (converted / "b2a").is_dir():
        reports = {}
        for direction, domain in (("a2b", "a"), ("b2a", "b")):
            aligned = align(reference / domain, converted / direction, cycled / direction if cycled else None,
                            settings, phrase_steps)
            reports[direction] = direction_report(aligned, domain, classifier, settings, steps_per_beat)
        result.update(reports)
        result.update(_strength(reports))
        return result
    if source is None:
        raise CycleAudioError(f"{converted}: expected a2b/ and b2a/ subfolders, or pass --source with the inputs")
    aligned = align(source, converted, cycled, settings, phrase_steps)
    if classifier is None:  # the direction is unknown without a classifier; the measures do not need it
        result["transfer"] = direction_report(aligned, "a", None, settings, steps_per_beat)
        return result
    target = load_folder(reference, settings, None, workers=1)
    target_phrases = [cut_phrases(s.roll, phrase_steps)[0][:, 0] for s in target.songs]
    if not target_phrases:
        raise CycleAudioError(f"{reference}: no usable reference songs of the target genre")
    target_p = float(_prob_a(classifier, torch.from_numpy(np.concatenate(target_phrases))).mean())
    domain = "a" if float(_prob_a(classifier, aligned.source).mean()) >= target_p else "b"
    result["a2b" if domain == "a" else "b2a"] = direction_report(aligned, domain, classifier, settings, steps_per_beat)
    return result


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return "nan" if math.isnan(value) else f"{value:.4f}"
    return str(value)


def format_music(result: dict[str, Any]) -> str:
    """A two-column table (A->B, B->A) of the per-direction measures, then transfer strength."""
    directions = [d for d in ("a2b", "b2a", "transfer") if d in result]
    keys: list[str] = []
    for d in directions:
        keys += [k for k in result[d] if k not in keys and k != "unmatched"]
    lines = []
    if "classifier_accuracy" in result:
        lines.append(f"classifier: {result['classifier']} (test accuracy {_fmt(result['classifier_accuracy'])})")
    width = max(len(k) for k in keys) + 2
    lines.append(f"{'':<{width}}" + "".join(f"{d:>12}" for d in directions))
    for key in keys:
        lines.append(f"{key:<{width}}" + "".join(f"{_fmt(result[d].get(key, '')):>12}" for d in directions))
    for key in ("S_A->B", "S_B->A", "S_tot"):
        if key in result:
            lines.append(f"{key:<{width}}{result[key] * 100:>11.1f}%")
    for d in directions:
        for reason in result[d].get("unmatched", []):
            lines.append(f"unmatched ({d}): {reason}")
    return "\n".join(lines)
