"""What an image report shows: input | output | cycled grids per image, and the domain scores."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ...jobs import find_inputs
from ...page import Page
from ..base import ReportInputs
from .grid import grid_row
from .io import SUFFIXES, read_rgb, write_rgb

#: p_target rows in the order ``evaluate`` prints them
P_TARGET_ROWS = ("source", "converted", "cycled", "reference")
#: (result key, label) of the single scores
SCORES = (("transfer_rate", "transfer rate (converted judged as target)"), ("strength", "transfer strength S"),
          ("strength_one_sided", "transfer strength without cycle"), ("fid", "FID"), ("kid", "KID"),
          ("fid_source", "FID of the unconverted source"), ("kid_source", "KID of the unconverted source"))


def _by_name(folder: Path | None) -> dict[str, Path]:
    """Images below ``folder`` by relative path without suffix (how ``evaluate`` pairs them)."""
    if folder is None:
        return {}
    base = folder if folder.is_dir() else folder.parent
    return {str(p.relative_to(base).with_suffix("")): p for p in find_inputs(folder, SUFFIXES)}


def _scores(page: Page, result: dict[str, Any]) -> None:
    classifier = result["classifier"]
    origin = "trained here on half of source/reference" if classifier["trained_here"] else classifier.get("path", "")
    page.add(f"domain classifier: {origin} ({classifier['image_size']} px), held-out accuracy "
             f"{classifier['accuracy']:.3f}; direction (classifier labels): {result['direction']}")
    page.table(["images", "P(target domain)"],
               [[name, result["p_target"][name]] for name in P_TARGET_ROWS if name in result["p_target"]])
    page.table(["score", ""], [[label, result[key]] for key, label in SCORES if key in result])


def image_report(page: Page, inputs: ReportInputs) -> None:
    """The scores, then up to ``inputs.limit`` grids (by name) of input | output | cycled, each panel at
    the output's size."""
    page.heading("Image translation")
    if inputs.evaluation:
        _scores(page, inputs.evaluation)
    if inputs.converted is None:
        return
    sources, cycled = _by_name(inputs.source), _by_name(inputs.cycled)
    shown = ["input"] * bool(sources) + ["output"] + ["cycled"] * bool(cycled)
    rows = []
    for name, path in sorted(_by_name(inputs.converted).items())[: inputs.limit]:
        output = read_rgb(path)
        size = (output.shape[-1], output.shape[-2])
        panels = [read_rgb(sources[name], size)] if name in sources else []
        panels += [output] + ([read_rgb(cycled[name], size)] if name in cycled else [])
        grid = page.asset(f"grid_{name}.png")
        write_rgb(grid_row(panels), grid)
        rows.append([name, page.image(grid, f"{name}: {' | '.join(shown)}")])
    page.table(["", " | ".join(shown)], rows)
