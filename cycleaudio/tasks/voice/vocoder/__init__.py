"""Vocoders that turn log-mel frames back into speech: Griffin-Lim (no training) and a HiFi-GAN-style
neural vocoder trained on the user's own recordings (``task: vocoder`` recipes, :mod:`.task`)."""

from .griffin_lim import GriffinLimVocoder
from .neural import NeuralVocoder
from .select import GRIFFIN_LIM, Vocoder, load_vocoder

__all__ = ["GriffinLimVocoder", "NeuralVocoder", "Vocoder", "load_vocoder", "GRIFFIN_LIM"]
