"""Log-mel spectrogram features for the mel-domain converters (MaskCycleGAN-VC, CycleGAN-VC3) and vocoders.

One definition serves training, conversion and the vocoders, so a vocoder trained on a speaker's
recordings inverts exactly the features a converter produces: magnitude (power 1) STFT with a Hann
window, Slaney mel filters, natural log clamped at 1e-5.  Files are read (and resampled) in a process
pool, the spectrograms computed in batches on the device, and each result cached under a key of the
file's content and these settings, like the WORLD features.
"""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, fields
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torchaudio
from ...progress import tqdm

from ...config import section_view
from ...errors import InputFileError
from .audio import read_audio
from .features import content_cache_path, save_cached, worker_count

LOG_FLOOR = 1e-5


@dataclass
class MelSettings:
    """Everything that defines a log-mel frame; two models agree on features iff these are equal.

    The recipe sections holding mel settings (voice ``features``, vocoder ``features``) extend this class,
    so each setting is declared here only.
    """

    sample_rate: int = 22050
    n_fft: int = 1024
    hop_length: int = 256
    n_mels: int = 80
    fmin: float = 0.0
    fmax: float | None = None

    @property
    def top(self) -> float:
        return self.fmax if self.fmax is not None else self.sample_rate / 2

    def frames(self, samples: int) -> int:
        """Frames of a signal of ``samples`` samples (centred frames, one every hop)."""
        return samples // self.hop_length + 1

    def as_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(MelSettings)}

    def validate(self) -> None:
        """Called by recipe validation of every section that extends these settings."""
        if self.hop_length <= 0 or self.hop_length > self.n_fft:
            raise ValueError("hop_length must be positive and at most n_fft")
        if self.n_mels < 4:
            raise ValueError("n_mels must be at least 4")
        if not 0 <= self.fmin < self.top <= self.sample_rate / 2:
            raise ValueError("fmin/fmax must satisfy 0 <= fmin < fmax <= sample_rate / 2")


def mel_settings(section: Any) -> MelSettings:
    """The mel settings of any recipe section that extends them (voice or vocoder ``features``)."""
    return section_view(section, MelSettings)


class MelAnalyzer(torch.nn.Module):
    """Waveforms -> log-mel (batch, n_mels, frames), exact for every item of a zero-padded batch.

    Each signal is reflect-padded by n_fft/2 on its own before batching, so its last frames see its own
    samples and never the zeros that pad it to the batch's length.
    """

    def __init__(self, settings: MelSettings) -> None:
        super().__init__()
        self.settings = settings
        self.spectrogram = torchaudio.transforms.MelSpectrogram(
            sample_rate=settings.sample_rate, n_fft=settings.n_fft, hop_length=settings.hop_length,
            f_min=settings.fmin, f_max=settings.top, n_mels=settings.n_mels, power=1.0, center=False,
            norm="slaney", mel_scale="slaney")

    def forward(self, waves: torch.Tensor) -> torch.Tensor:
        """(B, samples) already reflect-padded -> (B, n_mels, frames)."""
        return torch.log(torch.clamp(self.spectrogram(waves), min=LOG_FLOOR))

    def pad(self, wave: torch.Tensor) -> torch.Tensor:
        half = self.settings.n_fft // 2
        return torch.nn.functional.pad(wave.view(1, 1, -1), (half, half), mode="reflect").view(-1)

    @torch.no_grad()
    def batch(self, waves: list[np.ndarray], device: torch.device | str = "cpu") -> list[np.ndarray]:
        """Log-mels (frames, n_mels) of several signals, computed in one padded batch on ``device``."""
        self.to(device)
        padded = [self.pad(torch.as_tensor(w, dtype=torch.float32)) for w in waves]
        stacked = torch.nn.utils.rnn.pad_sequence(padded, batch_first=True).to(device)
        mels = self(stacked).cpu()
        return [mels[i, :, : self.settings.frames(len(w))].T.numpy() for i, w in enumerate(waves)]


def _read(job: tuple[Path, int, float]) -> tuple[Path, np.ndarray | None, str | None]:
    path, rate, min_seconds = job
    try:
        return path, read_audio(path, rate, min_seconds), None
    except InputFileError as exc:
        return path, None, exc.reason


def extract_mels(files: list[Path], settings: MelSettings, cache_dir: Path, workers: int = 0,
                 min_seconds: float = 0.0, device: torch.device | str = "cpu", batch_size: int = 16,
                 progress: bool = True, label: str = "mel features"
                 ) -> tuple[list[tuple[Path, np.ndarray]], list[tuple[Path, str]]]:
    """(file, log-mel (T, n_mels)) of every readable file, from the cache where possible, and the failures."""
    cached = {p: content_cache_path(p, settings, cache_dir, "mel", ".npy") for p in files}
    missing = [p for p in files if not cached[p].exists()]
    failures: dict[Path, str] = {}
    analyzer = MelAnalyzer(settings)
    jobs = [(p, settings.sample_rate, min_seconds) for p in missing]
    n = min(worker_count(workers), max(len(jobs), 1))
    bar = tqdm(total=len(files), initial=len(files) - len(missing), desc=label, unit="file",
               disable=not progress, leave=False)
    pool = ProcessPoolExecutor(n, mp_context=get_context("fork")) if n > 1 else None
    results = pool.map(_read, jobs) if pool else map(_read, jobs)
    pending: list[tuple[Path, np.ndarray]] = []

    def flush() -> None:
        if not pending:
            return
        for (path, _), mel in zip(pending, analyzer.batch([w for _, w in pending], device)):
            save_cached(cached[path], mel.astype(np.float32))
        bar.update(len(pending))
        pending.clear()

    try:
        for path, wave, reason in results:
            if wave is None:
                failures[path] = reason or "unknown failure"
                bar.update()
                continue
            pending.append((path, wave))
            if len(pending) >= batch_size:
                flush()
        flush()
    finally:
        if pool:
            pool.shutdown()
        bar.close()
    loaded = [(p, np.load(cached[p]).astype(np.float64)) for p in files if p not in failures]
    return loaded, [(p, failures[p]) for p in files if p in failures]


def mel_statistics(mels: list[np.ndarray]) -> dict[str, torch.Tensor | int]:
    """Per-bin mean and standard deviation of a domain's log-mel frames (saved in every checkpoint)."""
    stacked = np.concatenate(mels)
    return {"mel_mean": torch.from_numpy(stacked.mean(axis=0)).float(),
            "mel_std": torch.from_numpy(np.maximum(stacked.std(axis=0), 1e-8)).float(),
            "files": len(mels)}
