"""Converting image files or folders with a trained model, plus input | output | cycled grids.

Every input is converted (no cap), relative paths are mirrored, outputs are PNG.  ``size="model"``
resizes each image to the model's training crop (``features.crop_size`` squared) and converts in
batches; ``size="original"`` runs the fully convolutional generator at the image's own size,
reflect-padded to the generator's ``size_multiple`` and cropped back.
"""

from __future__ import annotations

import time
from functools import partial
from pathlib import Path
from typing import Any

import torch
from torch.nn import functional as F
from ...progress import tqdm

from ...errors import CycleAudioError, InputFileError
from ...jobs import FileJob, JobReport, plan_jobs
from ..domain import DomainGate
from .domain_check import check_image
from .grid import grid_row
from .io import SUFFIXES, read_rgb, to_uint8, to_unit, write_rgb

MAX_ORIGINAL_PIXELS = 4_000_000  # above this a full-size pass needs tens of GB; such files ask for --size model
BATCH = 8


def _pad_to_multiple(x: torch.Tensor, multiple: int) -> tuple[torch.Tensor, tuple[int, int]]:
    height, width = x.shape[-2:]
    pad_h, pad_w = (-height) % multiple, (-width) % multiple
    if pad_h or pad_w:
        mode = "reflect" if pad_h < height and pad_w < width else "replicate"
        x = F.pad(x, (0, pad_w, 0, pad_h), mode=mode)
    return x, (height, width)


@torch.no_grad()
def translate_batch(generator: torch.nn.Module, images: torch.Tensor) -> torch.Tensor:
    """Run a generator on [-1, 1] images of any size, padding to its ``size_multiple``."""
    padded, (height, width) = _pad_to_multiple(images, int(getattr(generator, "size_multiple", 1)))
    return generator(padded)[..., :height, :width]


def grid_path(job: FileJob, source: Path, target: Path) -> Path:
    """Where the grid of ``job`` goes: ``TARGET_grids/<relative path>`` for folders, ``<out>_grid.png`` for a file."""
    if source.is_file():
        return job.target.with_name(job.target.stem + "_grid.png")
    folder = target.resolve()  # so that "." still has a name to extend
    return folder.with_name(folder.name + "_grids") / job.target.relative_to(target)


def convert_images(bundle: Any, direction: str, source: Path, target: Path, options: Any) -> Any:
    size, want_grid = options.size, options.grid
    if size not in ("model", "original"):
        raise CycleAudioError(f"--size must be model or original, got {size!r}")
    jobs, refused = plan_jobs(source, target, SUFFIXES, ".png", overwrite=options.overwrite)
    report = JobReport(failed=list(refused))
    forward = bundle.generator(direction)
    backward = bundle.generator("b2a" if direction == "a2b" else "a2b")
    crop = int(bundle.recipe.features.crop_size)
    stats = bundle.statistics.get(bundle.domains(direction)[0], {})
    gate = DomainGate(report, partial(check_image, stats=stats) if "std_rgb" in stats else None,
                      options.strict, "the checkpoint predates the colour deviations it would need")
    started = time.perf_counter()

    def finish(batch: list[tuple[FileJob, torch.Tensor]]) -> None:
        if not batch:
            return
        images = to_unit(torch.stack([image for _, image in batch])).to(bundle.device)
        outputs = translate_batch(forward, images)
        cycled = translate_batch(backward, outputs) if want_grid else None
        for i, (job, image) in enumerate(batch):
            output = to_uint8(outputs[i])
            write_rgb(output, job.target)
            if cycled is not None:
                write_rgb(grid_row([image, output, to_uint8(cycled[i])]), grid_path(job, source, target))
            report.written.append(job.target)
        batch.clear()

    pending: list[tuple[FileJob, torch.Tensor]] = []
    for job in tqdm(jobs, unit="image", disable=not options.progress, dynamic_ncols=True):
        try:
            image = read_rgb(job.source, (crop, crop) if size == "model" else None)
            if size == "original" and image.shape[-1] * image.shape[-2] > MAX_ORIGINAL_PIXELS:
                raise InputFileError(job.source, f"{image.shape[-1]}x{image.shape[-2]} is too large for "
                                                 f"--size original (over {MAX_ORIGINAL_PIXELS} pixels); use --size model")
        except InputFileError as exc:
            report.failed.append((job.source, exc.reason))
            continue
        if not gate.admit(job.source, image):
            continue
        pending.append((job, image))
        if size == "original" or len(pending) == BATCH:
            finish(pending)
    finish(pending)
    elapsed = time.perf_counter() - started
    report.metrics["images_per_s"] = len(report.written) / max(elapsed, 1e-9)
    return report
