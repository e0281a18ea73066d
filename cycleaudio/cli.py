"""The ``cycleaudio`` command line: a thin layer over :mod:`cycleaudio.api`.

Every error a user can cause is printed as one line on stderr with a non-zero exit status.
"""

from __future__ import annotations

import functools
import json
import sys
from pathlib import Path
from typing import Any, Callable

import click

from . import __version__
from .errors import CycleAudioError


def user_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """Turn CycleAudioError and Ctrl-C into a one-line message and an exit status."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except CycleAudioError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(2)
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            sys.exit(130)

    return wrapper


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="cycleaudio")
def main() -> None:
    """Unpaired domain transfer with cycle-consistent GANs: voice, music and images."""


@main.command()
@click.argument("recipe")
@click.option("--out", type=click.Path(path_type=Path), help="Experiment folder (default: the recipe's train.out_dir).")
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE", help="Override a recipe value, e.g. train.steps=100.")
@click.option("--resume", is_flag=True, help="Continue from the experiment folder's latest checkpoint.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@user_errors
def train(recipe: str, out: Path | None, overrides: tuple[str, ...], resume: bool, quiet: bool) -> None:
    """Train a model from RECIPE (a YAML path or a shipped recipe's name)."""
    from . import api

    last = api.train(recipe, out=out, overrides=overrides, resume=resume, progress=not quiet)
    click.echo(f"checkpoint: {last}")


@main.command()
@click.argument("recipe")
@click.option("--out", type=click.Path(path_type=Path), help="Experiment folder (default: the recipe's train.out_dir).")
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE", help="Override a recipe value.")
@user_errors
def preprocess(recipe: str, out: Path | None, overrides: tuple[str, ...]) -> None:
    """Extract and cache RECIPE's features and write per-domain statistics, without training."""
    from . import api

    click.echo(f"written: {api.preprocess(recipe, out=out, overrides=overrides)}")


@main.command()
@click.option("--model", required=True, type=click.Path(path_type=Path), help="Experiment folder, checkpoint or export.")
@click.option("--direction", required=True, type=click.Choice(["a2b", "b2a"]))
@click.argument("source", type=click.Path(path_type=Path))
@click.argument("target", type=click.Path(path_type=Path))
@click.option("--device", default="auto", show_default=True, help="auto, cpu, cuda or cuda:N.")
@click.option("--workers", type=int, default=None, help="Worker processes for analysis (default: all cores).")
@click.option("--overwrite", is_flag=True, help="Replace outputs that already exist.")
@click.option("--vocoder", type=click.Path(path_type=Path), help="Voice (mel models): vocoder checkpoint or griffin-lim.")
@click.option("--binarize", type=click.Choice(["threshold", "density"]), help="Music: threshold or density (as many notes per phrase as the source; default: the recipe's).")
@click.option("--threshold", type=float, help="Music: piano-roll binarisation threshold (default: the recipe's, 0.5).")
@click.option("--instrument", type=int, help="Music: General MIDI program of the output track (default 0, piano).")
@click.option("--render", is_flag=True, default=None, help="Music: also write a WAV preview of every output.")
@click.option("--size", type=click.Choice(["model", "original"]), help="Images: convert at the model's resolution or the original size.")
@click.option("--grid/--no-grid", default=None, help="Images: also write input | output | cycled grids.")
@user_errors
def convert(model: Path, direction: str, source: Path, target: Path, device: str, **options: Any) -> None:
    """Convert SOURCE (a file or a folder, recursively) into TARGET, mirroring relative paths."""
    from . import api

    options = {k: v for k, v in options.items() if v is not None}
    report = api.convert(model, direction, source, target, device=device, **options)
    click.echo(report.summary())
    if not report.ok:
        sys.exit(1)


@main.command()
@click.argument("converted", type=click.Path(path_type=Path))
@click.argument("reference", type=click.Path(path_type=Path))
@click.option("--source", type=click.Path(path_type=Path), help="Unconverted inputs, evaluated as a baseline.")
@click.option("--task", default=None, help="Task of the files (default: detected from the file types).")
@click.option("--json", "json_path", type=click.Path(path_type=Path), help="Write the results as JSON here.")
@click.option("--classifier", type=click.Path(path_type=Path), help="Music/images: domain-classifier checkpoint.")
@click.option("--cycled", type=click.Path(path_type=Path), help="Music/images: cycled-back files (for transfer strength).")
@click.option("--inception", type=click.Path(path_type=Path), help="Images: InceptionV3 weights file for FID/KID.")
@user_errors
def evaluate(converted: Path, reference: Path, source: Path | None, task: str | None, json_path: Path | None,
             **options: Any) -> None:
    """Objective metrics of CONVERTED files against REFERENCE files matched by name."""
    from . import api
    from .tasks import get_task

    options = {k: v for k, v in options.items() if v is not None}
    result = api.evaluate(converted, reference, source, task=task, **options)
    click.echo(get_task(result["task"]).format_evaluation(result))
    if json_path is not None:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps(result, indent=2), encoding="utf-8")
        click.echo(f"written: {json_path}")


@main.command()
def recipes() -> None:
    """List the shipped recipes."""
    from .api import shipped_recipes

    rows = shipped_recipes()
    width = max((len(name) for name, _ in rows), default=0)
    for name, description in rows:
        click.echo(f"{name:<{width}}  {description}")


@main.command()
@click.argument("model", type=click.Path(path_type=Path))
@click.argument("out", type=click.Path(path_type=Path))
@user_errors
def export(model: Path, out: Path) -> None:
    """Write an inference-only file (generators + recipe + statistics) from MODEL."""
    from .bundle import export_bundle

    click.echo(f"written: {export_bundle(model, out)}")


@main.command("builtin-data")
@click.argument("task")
@click.argument("out", type=click.Path(path_type=Path))
@user_errors
def builtin_data(task: str, out: Path) -> None:
    """Write TASK's built-in synthetic data set (train and evaluation files) into OUT."""
    from .tasks import get_task

    impl = get_task(task)
    writer = getattr(impl, "write_builtin_data", None)
    if writer is None:
        raise CycleAudioError(f"task {task!r} has no built-in data")
    click.echo(f"written: {writer(out)}")
