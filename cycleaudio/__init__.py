"""cycleaudio: unpaired domain transfer with cycle-consistent GANs, for voice, music and images.

The top-level calls (``train``, ``convert``, ``evaluate``, ``load``...) are imported on first use, so
``import cycleaudio`` stays cheap and lower layers can read the version without importing the API.
"""

from __future__ import annotations

from typing import Any

from .version import __version__

_API = ("train", "convert", "evaluate", "preprocess", "export", "load", "report")

__all__ = ["__version__", *_API]


def __getattr__(name: str) -> Any:
    if name in _API:
        from . import api

        return getattr(api, name)
    raise AttributeError(f"module 'cycleaudio' has no attribute {name!r}")
