"""Aligned (log-mel, waveform) segments of a speaker's recordings for vocoder training."""

from __future__ import annotations

import numpy as np
import torch


class WaveMelSegments:
    """Random segments of ``frames`` mel frames and the ``frames * hop`` samples they describe.

    Frame t is centred on sample t * hop, so frames [s, s+F) go with samples [s*hop, (s+F)*hop);
    each waveform is zero-padded to (frames * hop) samples so every frame has its samples.
    """

    def __init__(self, items: list[tuple[np.ndarray, np.ndarray]], hop: int, frames: int) -> None:
        self.hop, self.frames = hop, frames
        self.items = []
        for wave, mel in items:
            if mel.shape[0] < frames:
                continue
            padded = np.zeros(mel.shape[0] * hop, dtype=np.float32)
            padded[: min(len(wave), len(padded))] = wave[: len(padded)]
            self.items.append((torch.from_numpy(padded), torch.from_numpy(mel.T.astype(np.float32)).contiguous()))
        if not self.items:
            raise ValueError(f"no recording is at least {frames} frames long")

    def __len__(self) -> int:
        return len(self.items)

    def sample(self, batch_size: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """(mel (B, n_mels, F), wave (B, F * hop))."""
        mels, waves = [], []
        for index in torch.randint(len(self.items), (batch_size,), generator=generator).tolist():
            wave, mel = self.items[index]
            start = int(torch.randint(mel.shape[1] - self.frames + 1, (), generator=generator))
            mels.append(mel[:, start:start + self.frames])
            waves.append(wave[start * self.hop:(start + self.frames) * self.hop])
        return torch.stack(mels), torch.stack(waves)
