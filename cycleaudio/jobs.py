"""File and folder jobs: input discovery, output planning, failure reporting.

A folder job finishes every good file, collects one-line reasons for the bad ones, and reports them
at the end; the caller exits non-zero when anything failed.  Inputs are never written to, and an
existing output is never replaced unless the user asks for it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from .errors import CycleAudioError


@dataclass
class FileJob:
    source: Path
    target: Path


@dataclass
class JobReport:
    """Outcome of a file/folder job: written outputs, failures with reasons, task metrics, and per
    input the in-domain check (``domain``: distance, verdict, measures), with ``warnings`` for the
    inputs converted although out of domain and ``notes`` about the job as a whole."""

    written: list[Path] = field(default_factory=list)
    failed: list[tuple[Path, str]] = field(default_factory=list)
    metrics: dict[str, float] = field(default_factory=dict)
    domain: dict[Path, dict[str, float | bool]] = field(default_factory=dict)
    warnings: list[tuple[Path, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failed

    def summary(self) -> str:
        lines = [f"{len(self.written)} written, {len(self.failed)} failed"]
        lines += [f"  {k}: {v:.3g}" for k, v in self.metrics.items()]
        lines += [f"note: {note}" for note in self.notes]
        lines += [f"warning: {path}: {reason}" for path, reason in self.warnings]
        if self.failed:
            lines.append("failed files:")
            lines += [f"  {path}: {reason}" for path, reason in self.failed]
        return "\n".join(lines)


def find_inputs(source: Path, suffixes: Iterable[str]) -> list[Path]:
    """``source`` itself if it is a file, else every file below it with one of ``suffixes``, sorted."""
    suffixes = tuple(s.lower() for s in suffixes)
    if source.is_file():
        return [source]
    if not source.is_dir():
        raise CycleAudioError(f"{source}: no such file or folder")
    found = sorted(p for p in source.rglob("*") if p.is_file() and p.suffix.lower() in suffixes)
    if not found:
        raise CycleAudioError(f"{source}: no {'/'.join(suffixes)} files in this folder")
    return found


def plan_jobs(source: Path, target: Path, suffixes: Iterable[str], out_suffix: str,
              overwrite: bool = False) -> tuple[list[FileJob], list[tuple[Path, str]]]:
    """Pair every input with its output path (relative paths mirrored under ``target``).

    A file input writes to ``target`` if it has a suffix, else into the folder ``target``.  Returns
    the jobs and the inputs refused up front (output exists, or output would be the input itself).
    """
    inputs = find_inputs(source, suffixes)
    jobs, refused = [], []
    for path in inputs:
        if source.is_file():
            out = target if target.suffix else target / (path.stem + out_suffix)
        else:
            out = (target / path.relative_to(source)).with_suffix(out_suffix)
        if out.resolve() == path.resolve():
            refused.append((path, "output would overwrite the input"))
        elif out.exists() and not overwrite:
            refused.append((path, f"output {out} exists (use --overwrite to replace it)"))
        else:
            jobs.append(FileJob(path, out))
    return jobs, refused
