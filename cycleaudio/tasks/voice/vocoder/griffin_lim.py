"""Griffin-Lim inversion of log-mel frames: the vocoder that needs no training and is always available.

The mel filterbank is inverted with its pseudo-inverse (clamped at zero), then the phase is estimated
with torchaudio's fast (momentum) Griffin-Lim.  Quality is limited by the phase estimate, which is why
the trained neural vocoder exists; this one is the baseline and the fallback.
"""

from __future__ import annotations

import numpy as np
import torch
import torchaudio

from ..mel import MelSettings


class GriffinLimVocoder:
    name = "griffin-lim"

    def __init__(self, settings: MelSettings, iterations: int = 32, device: torch.device | str = "cpu") -> None:
        self.settings = settings
        self.device = torch.device(device)
        filters = torchaudio.functional.melscale_fbanks(
            settings.n_fft // 2 + 1, settings.fmin, settings.top, settings.n_mels, settings.sample_rate,
            norm="slaney", mel_scale="slaney")  # (freq, n_mels)
        self.inverse = torch.linalg.pinv(filters.T).to(self.device)  # (freq, n_mels)
        self.griffin_lim = torchaudio.transforms.GriffinLim(
            n_fft=settings.n_fft, hop_length=settings.hop_length, power=1.0, n_iter=iterations, momentum=0.99,
            rand_init=False).to(self.device)

    @torch.no_grad()
    def __call__(self, log_mel: np.ndarray) -> np.ndarray:
        """(T, n_mels) log-mel -> waveform of T * hop samples."""
        mel = torch.exp(torch.as_tensor(log_mel, dtype=torch.float32, device=self.device)).T
        magnitude = torch.clamp(self.inverse @ mel, min=0.0)
        wave = self.griffin_lim(magnitude)
        frames = log_mel.shape[0]
        wave = torch.nn.functional.pad(wave, (0, max(frames * self.settings.hop_length - wave.shape[-1], 0)))
        return wave[: frames * self.settings.hop_length].double().cpu().numpy()
