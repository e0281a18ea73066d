"""What a voice report shows: players, log-mel spectrograms and F0 contours per utterance, the metrics.

The same figure (one log-mel panel per version of an utterance, then the F0 contours on one plot) is
written into ``cycleaudio report`` pages and into TensorBoard at every sample point of a training.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import librosa
import numpy as np
from matplotlib.figure import Figure

from ... import plots
from ...jobs import find_inputs
from ...page import Page
from ..base import ReportInputs
from .audio import AUDIO_SUFFIXES, read_audio
from .metrics import COLUMNS, ROWS
from .world import WorldSettings, estimate_f0

N_MELS = 80
HOP = 256
#: (ReportInputs folder, label on the page, evaluate's JSON key) in the order shown
ROLES = (("source", "source", "source"), ("converted", "conversion", "converted"),
         ("baseline", "statistics-only", "statistics_only"), ("reference", "reference", None))
#: whose F0 is plotted: the statistics-only F0 is the conversion's (the same log-Gaussian transform)
F0_LABELS = ("source", "conversion", "reference")


def log_mel(wave: np.ndarray, rate: int) -> np.ndarray:
    """(N_MELS, frames) log-mel power in dB below the utterance's peak (80 dB range)."""
    mel = librosa.feature.melspectrogram(y=wave.astype(np.float32), sr=rate, n_fft=1024, hop_length=HOP, n_mels=N_MELS)
    return librosa.power_to_db(mel, ref=np.max, top_db=80.0)


def f0_contour(wave: np.ndarray, rate: int) -> tuple[np.ndarray, np.ndarray]:
    """(times, F0 with NaN where unvoiced) by dio + stonemask: fast enough for every report and sample."""
    f0, times = estimate_f0(wave.astype(np.float64), WorldSettings(sample_rate=rate, f0_method="dio"))
    return times, np.where(f0 > 0, f0, np.nan)


def voice_figure(waves: dict[str, np.ndarray], rate: int) -> Figure:
    """A log-mel panel per wave (labelled by its key), then the F0 contours of :data:`F0_LABELS` on one plot."""
    fig, axes = plots.figure(len(waves) + 1, row_height=1.5)
    for ax, (label, wave) in zip(axes, waves.items()):
        plots.image_panel(ax, log_mel(wave, rate), f"{label}: log-mel [dB]", (0, len(wave) / rate, 0, N_MELS),
                          "mel band")
    contour = axes[-1]
    for label in F0_LABELS:
        if label in waves:
            contour.plot(*f0_contour(waves[label], rate), label=label, linewidth=1.2)
    contour.set_title("F0", fontsize=9, loc="left")
    contour.set_ylabel("Hz", fontsize=8)
    contour.set_xlabel("time [s]", fontsize=8)
    contour.tick_params(labelsize=7)
    contour.legend(fontsize=7, loc="upper right")
    return fig


def _by_stem(folder: Path | None) -> dict[str, Path]:
    """The audio files of ``folder`` by file stem (how ``evaluate`` pairs them); none for no folder."""
    return {p.stem: p for p in find_inputs(folder, AUDIO_SUFFIXES)} if folder is not None else {}


def _metrics_table(page: Page, evaluation: dict[str, Any]) -> None:
    page.add(f"{evaluation['pairs']} pairs; cepstrum: {evaluation['cepstrum']}")
    page.table(["", *(title for _, title in COLUMNS)],
               [[label, *(evaluation[key].get(column, "") for column, _ in COLUMNS)]  # older JSON: fewer columns
                for key, label in ROWS if key in evaluation])
    for item in evaluation.get("failed", []):
        page.add(f"failed: {item['file']}: {item['reason']}")


def voice_report(page: Page, inputs: ReportInputs) -> None:
    """The evaluation table, then per utterance (up to ``inputs.limit``, by name) a player of each
    version with its scores, and the spectrogram/F0 figure."""
    page.heading("Voice conversion")
    evaluation = inputs.evaluation or {}
    if evaluation:
        _metrics_table(page, evaluation)
    files = {label: _by_stem(getattr(inputs, field)) for field, label, _ in ROLES}
    names = sorted(files["conversion"])[: inputs.limit]
    if not names:
        return
    rate = (inputs.recipe.features.sample_rate if inputs.recipe is not None
            else int(librosa.get_samplerate(str(files["conversion"][names[0]]))))
    scores = {row["name"]: row for row in evaluation.get("files", [])}
    for name in names:
        page.heading(name, 3)
        present = [(label, key, files[label][name]) for _, label, key in ROLES if name in files[label]]
        row_scores = scores.get(name, {})
        page.table(["", "audio", *(title for _, title in COLUMNS)],
                   [[label, page.audio(path), *(row_scores.get(key, {}).get(c, "") for c, _ in COLUMNS)]
                    for label, key, path in present])
        waves = {label: read_audio(path, rate) for label, _, path in present}
        page.add(page.figure(voice_figure(waves, rate), f"voice_{name}", f"log-mel spectrograms and F0 of {name}"))
