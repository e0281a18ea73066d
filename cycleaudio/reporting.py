"""``cycleaudio report``: one self-contained HTML page of a run and its results.

The training section (loss and learning-rate curves from ``train.log``, the checkpoint step, the
resolved recipe) is the same for every task and is written here; the results section is the task's own
(:meth:`cycleaudio.tasks.base.Task.report`), given the folders and the evaluation it should show.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from . import plots, runner
from .config import read_yaml
from .engine.checkpoint import step_checkpoints
from .engine.monitor import read_log
from .errors import CycleAudioError
from .page import Page
from .tasks.base import ReportInputs, Task

#: train.log keys that are not losses: plotted on their own axes or left out
RATE_PREFIX = "lr_"
SPEED_KEY = "steps/s"


def run_recipe(run: Path) -> Any:
    """The resolved recipe of an experiment folder (``recipe.yaml``), validated against its task."""
    path = run / "recipe.yaml"
    if not path.is_file():
        raise CycleAudioError(f"{run}: not an experiment folder (no recipe.yaml)")
    return runner.resolve_recipe(read_yaml(path), str(path))


def _curves(page: Page, log: Path) -> None:
    """Loss curves and, on their own axes, the learning rates of every logged step."""
    steps, values = read_log(log)
    losses = {k: v for k, v in values.items() if not k.startswith(RATE_PREFIX) and k != SPEED_KEY}
    rates = {k: v for k, v in values.items() if k.startswith(RATE_PREFIX)}
    if not steps or not losses:
        page.add(f"{log.name}: no logged steps yet")
        return
    fig, axes = plots.figure(2 if rates else 1, row_height=2.6)
    for ax, series, title in zip(axes, (losses, rates), ("losses", "learning rates")):
        for key, ys in sorted(series.items()):
            ax.plot(steps, ys, label=key, linewidth=1.2, marker="." if len(steps) < 30 else None)
        if all(y > 0 for ys in series.values() for y in ys if not math.isnan(y)):
            ax.set_yscale("log")  # losses of very different sizes (cycle x 10 vs adversarial) stay readable
        ax.set_title(title, fontsize=9, loc="left")
        ax.legend(fontsize=7, ncol=4, loc="upper right")
        ax.tick_params(labelsize=7)
    axes[-1].set_xlabel("step", fontsize=8)
    page.add(page.figure(fig, "training_curves", "loss and learning-rate curves"))
    last = {k: v[-1] for k, v in values.items() if not math.isnan(v[-1])}
    page.table(["step", *last], [[steps[-1], *last.values()]])


def training_section(page: Page, run: Path) -> None:
    """Checkpoint step, curves and the resolved recipe of the experiment folder ``run``."""
    page.heading("Training")
    checkpoints = step_checkpoints(run / "checkpoints")
    page.add(f"experiment folder: {run}; " + (f"last checkpoint: {checkpoints[-1].name} "
                                              f"({len(checkpoints)} kept)" if checkpoints else "no checkpoint yet"))
    if (run / "train.log").is_file():
        _curves(page, run / "train.log")
    page.heading("Recipe", 3)
    page.preformatted((run / "recipe.yaml").read_text(encoding="utf-8"))


def write_report(out: Path, task: Task, inputs: ReportInputs, run: Path | None = None) -> Path:
    """Write ``out/index.html`` (and its assets): the training section of ``run``, if given, then
    ``task``'s results section; returns the page."""
    title = f"cycleaudio report: {run.resolve().name if run else task.name}"
    page = Page(out, title)
    if run is not None:
        training_section(page, run)
    if inputs.evaluation or inputs.converted is not None:
        task.report(page, inputs)
    return page.write()
