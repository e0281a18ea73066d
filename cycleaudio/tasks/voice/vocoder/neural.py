"""A trained neural vocoder loaded from its checkpoint, ready to synthesise log-mel frames.

The checkpoint holds tensors, numbers and strings only (``torch.load(weights_only=True)``): the
generator's registered name and arguments, its weights, the mel settings it was trained on, the recipe
and the step.  Training checkpoints serve directly; there is nothing to export.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from ....engine.checkpoint import read_checkpoint
from ....registry import GENERATORS
from ....errors import CycleAudioError
from ..mel import MelSettings
from . import nets  # noqa: F401  (registers the vocoder networks this module builds by name)

FORMAT = "cycleaudio-vocoder"


def read_vocoder_checkpoint(path: Path | str, map_location: str | torch.device = "cpu") -> tuple[Path, dict[str, Any]]:
    """(file, state) of a vocoder checkpoint or experiment folder; anything else is a one-line error."""
    return read_checkpoint(path, [FORMAT], "cycleaudio vocoder checkpoint (train one with a task: vocoder recipe)",
                           map_location)


def build_vocoder_generator(spec: dict[str, Any], settings: MelSettings) -> nn.Module:
    """The registered generator, checked to produce exactly one hop of samples per mel frame."""
    network = GENERATORS.build(spec["name"], spec.get("args") or {}, n_mels=settings.n_mels)
    if getattr(network, "hop_length", settings.hop_length) != settings.hop_length:
        raise CycleAudioError(f"vocoder generator upsamples x{network.hop_length}, but features.hop_length is "
                              f"{settings.hop_length}: make the product of upsample_rates equal the hop")
    return network


class NeuralVocoder:
    name = "neural"

    def __init__(self, network: nn.Module, settings: MelSettings, device: torch.device | str = "cpu",
                 source: Path | None = None) -> None:
        self.network = network.to(device).eval()
        self.settings = settings
        self.device = torch.device(device)
        self.source = source

    @classmethod
    def load(cls, path: Path | str, device: torch.device | str = "cpu") -> "NeuralVocoder":
        file, state = read_vocoder_checkpoint(path)
        settings = MelSettings(**state["mel"])
        network = build_vocoder_generator(state["network"], settings)
        try:
            network.load_state_dict(state["weights"])
        except RuntimeError as exc:
            raise CycleAudioError(f"{file}: weights do not match the vocoder network ({str(exc).splitlines()[0]})") from None
        return cls(network, settings, device, file)

    @torch.no_grad()
    def __call__(self, log_mel: np.ndarray) -> np.ndarray:
        """(T, n_mels) log-mel -> waveform of T * hop samples."""
        mel = torch.as_tensor(log_mel, dtype=torch.float32, device=self.device).T.unsqueeze(0)
        return self.network(mel)[0].double().cpu().numpy()
