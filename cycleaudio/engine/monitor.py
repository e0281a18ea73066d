"""Progress bar, TensorBoard scalars and the plain-text log of a training run."""

from __future__ import annotations

import math
import re
import time
from pathlib import Path
from typing import Callable

import torch
from torch.utils.tensorboard import SummaryWriter
from ..progress import tqdm


LOG_STEP = re.compile(r"^\S+ \S+ step (\d+) (.*)$")


def read_log(path: Path) -> tuple[list[int], dict[str, list[float]]]:
    """The steps and values (losses, learning rates, steps/s) of the ``step N key=value ...`` lines of a
    ``train.log``; a key missing at some step (identity loss switched off, a resumed run) is NaN there."""
    steps: list[int] = []
    values: dict[str, list[float]] = {}
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        match = LOG_STEP.match(line)
        if not match:
            continue
        pairs = dict(item.split("=", 1) for item in match.group(2).split() if "=" in item)
        for key in [*values, *(k for k in pairs if k not in values)]:
            values.setdefault(key, [math.nan] * len(steps)).append(float(pairs.get(key, "nan")))
        steps.append(int(match.group(1)))
    return steps, values


class TrainingMonitor:
    """Accumulates loss tensors on the device and reports their means every ``flush``.

    Converting to Python floats only at flush time keeps the training step free of host syncs.
    """

    def __init__(self, exp_dir: Path, total_steps: int, start_step: int, progress: bool = True,
                 enabled: bool = True, reduce: Callable[[torch.Tensor], torch.Tensor] | None = None) -> None:
        """``enabled=False`` (ranks other than 0) keeps the accumulation and reduction but writes nothing."""
        self.enabled = enabled
        self.reduce = reduce or (lambda t: t)
        self.writer = SummaryWriter(str(exp_dir / "tb"), purge_step=start_step or None) if enabled else None
        self.log_file = open(exp_dir / "train.log", "a", encoding="utf-8") if enabled else None
        self.bar = tqdm(total=total_steps, initial=start_step, disable=not progress, unit="step", dynamic_ncols=True)
        self.sums: dict[str, torch.Tensor] = {}
        self.count = 0
        self.first_bad: torch.Tensor | None = None  # first step with a non-finite loss, -1 while none
        self.last_step = start_step
        self.last_time = time.perf_counter()

    def accumulate(self, logs: dict[str, torch.Tensor], step: int) -> None:
        """Add one step's losses; remember (on the device, without a sync) the first non-finite step."""
        for key, value in logs.items():
            self.sums[key] = self.sums[key] + value if key in self.sums else value.clone()
        if logs:
            finite = torch.stack([v.float().reshape(()) for v in logs.values()]).isfinite().all()
            if self.first_bad is None:
                self.first_bad = torch.full((), -1, dtype=torch.long, device=finite.device)
            self.first_bad = torch.where(~finite & (self.first_bad < 0), step, self.first_bad)
        self.count += 1
        self.bar.update(1)

    def first_non_finite_step(self) -> int | None:
        """The first step whose loss was NaN or infinite, if any (one host sync)."""
        if self.first_bad is None:
            return None
        step = int(self.first_bad)
        return step if step >= 0 else None

    def flush(self, step: int, extra: dict[str, float]) -> dict[str, float]:
        """Write the window's mean losses; returns them (for tests and callers)."""
        now = time.perf_counter()
        means = {k: float(self.reduce(v)) / max(self.count, 1) for k, v in self.sums.items()}
        rate = (step - self.last_step) / max(now - self.last_time, 1e-9)
        self.sums, self.count = {}, 0
        self.last_step, self.last_time = step, now
        if not self.enabled:
            return means
        for key, value in {**means, **extra}.items():
            self.writer.add_scalar(f"train/{key}", value, step)
        self.writer.add_scalar("train/steps_per_s", rate, step)
        shown = {k: f"{means[k]:.3f}" for k in ("g_total", "d_total", "cycle") if k in means}
        self.bar.set_postfix(shown)
        text = " ".join([*(f"{k}={v:.4f}" for k, v in means.items()), *(f"{k}={v:.4g}" for k, v in extra.items())])
        self.log_text(f"step {step} {text} steps/s={rate:.2f}")
        return means

    def log_values(self, group: str, step: int, values: dict[str, float], note: str = "") -> None:
        """Scalars measured outside the step (validation) as ``group/<name>`` in TensorBoard and one
        ``group step N name=value ... note`` line in train.log."""
        if not self.enabled:
            return
        for key, value in values.items():
            self.writer.add_scalar(f"{group}/{key}", value, step)
        text = " ".join(f"{k}={v:.4f}" for k, v in values.items())
        self.log_text(f"{group} step {step} {text}" + (f" {note}" if note else ""))

    def log_text(self, line: str) -> None:
        if self.log_file is None:
            return
        self.log_file.write(f"{time.strftime('%Y-%m-%d %H:%M:%S')} {line}\n")
        self.log_file.flush()

    def close(self) -> None:
        self.bar.close()
        if self.enabled:
            self.writer.close()
            self.log_file.close()
