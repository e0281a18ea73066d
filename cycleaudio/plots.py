"""Matplotlib figures without pyplot, for the HTML report and TensorBoard images.

Figures are made from :class:`matplotlib.figure.Figure` and drawn with the Agg canvas directly: no
global pyplot state, no display needed, nothing to close, and the same figure object goes into a
report (``savefig``) or into TensorBoard (:func:`to_rgb`).
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

DPI = 80


def figure(rows: int = 1, width: float = 9.0, row_height: float = 2.0, sharex: bool = True) -> tuple[Figure, list[Any]]:
    """A figure of ``rows`` stacked axes (a list even for one)."""
    fig = Figure(figsize=(width, row_height * rows), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(rows, 1, sharex=sharex, squeeze=False)[:, 0]
    return fig, list(axes)


def image_panel(ax: Any, values: np.ndarray, title: str, extent: Sequence[float], ylabel: str,
                cmap: str = "magma", value_range: tuple[float, float] | None = None) -> None:
    """``values`` (rows = y from bottom, columns = time) drawn as an image over ``extent``; colours span
    ``value_range`` (default: the values' own range)."""
    low, high = value_range or (None, None)
    ax.imshow(values, origin="lower", aspect="auto", cmap=cmap, extent=tuple(extent), interpolation="nearest",
              vmin=low, vmax=high)
    ax.set_title(title, fontsize=9, loc="left")
    ax.set_ylabel(ylabel, fontsize=8)
    ax.tick_params(labelsize=7)


def to_rgb(fig: Figure) -> np.ndarray:
    """The drawn figure as an (H, W, 3) uint8 array (TensorBoard ``add_image(..., dataformats="HWC")``)."""
    canvas = fig.canvas
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[:, :, :3].copy()
