"""Symbolic music genre transfer (MIDI in, MIDI out) on the shared CycleGAN engine.

Modules: ``roll`` (MIDI <-> beat-grid piano roll), ``corpus`` (parallel cached parsing, phrases),
``synthetic`` (built-in two-style songs), ``domains`` (recipe entries -> training sources),
``transfer`` (whole songs), ``metrics`` and ``evaluation``, ``task`` (the CycleGAN task) and
``classifier_task`` (the genre classifier, trained with ``cycleaudio train``).
"""

from .task import TASK

__all__ = ["TASK"]
