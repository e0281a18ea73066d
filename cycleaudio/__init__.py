"""cycleaudio: unpaired domain transfer with cycle-consistent GANs, for voice, music and images."""

__version__ = "0.1.0"

from .api import convert, evaluate, train  # noqa: E402

__all__ = ["__version__", "train", "convert", "evaluate"]
