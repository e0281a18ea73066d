"""Picking the device and the autocast precision a run computes in."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import torch

from ..errors import CycleAudioError

AUTOCAST_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}


def pick_device(name: str = "auto") -> torch.device:
    """``auto`` is the first CUDA device when there is one, else the CPU; a name that cannot be had is
    a one-line error."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise CycleAudioError(f"unknown device {name!r}; use auto, cpu, cuda or cuda:N") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise CycleAudioError(f"device {name!r} asked for, but no CUDA device is available")
    return device


@lru_cache(maxsize=1)
def cpu_has_bf16_matrix_units() -> bool:
    """True when the CPU multiplies bf16 matrices in dedicated tiles (AMX), the one CPU feature with which
    bf16 autocast trains faster than fp32 (measured on 2 cores with AMX: voice steps 1.35-2x, image steps
    1.8-2.3x).  AVX-512 BF16 alone is not enough: on such a CPU every voice and image training step measured
    slower in bf16 (casts cost more than the dot products save)."""
    try:
        flags = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    return "amx_bf16" in flags.split()


def resolve_precision(precision: str, device: torch.device) -> str:
    """The precision a run uses: ``auto`` becomes bf16 on CUDA GPUs with bf16 and on CPUs with AMX, else
    fp32."""
    if precision != "auto":
        return precision
    if device.type == "cuda":
        return "bf16" if torch.cuda.is_bf16_supported() else "fp32"
    return "bf16" if device.type == "cpu" and cpu_has_bf16_matrix_units() else "fp32"
