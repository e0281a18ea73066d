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

from .errors import CycleAudioError
from .progress import set_quiet
from .version import __version__


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
@click.option("--quiet", is_flag=True, help="No progress bars.")
@user_errors
def train(recipe: str, out: Path | None, overrides: tuple[str, ...], resume: bool, quiet: bool) -> None:
    """Train a model from RECIPE (a YAML path or a shipped recipe's name): CycleGANs, vocoders and
    classifiers alike."""
    from . import api

    set_quiet(quiet)
    last = api.train(recipe, out=out, overrides=overrides, resume=resume, progress=not quiet)
    click.echo(f"checkpoint: {last}")


@main.command()
@click.argument("recipe")
@click.option("--out", type=click.Path(path_type=Path), help="Experiment folder (default: the recipe's train.out_dir).")
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE", help="Override a recipe value.")
@click.option("--quiet", is_flag=True, help="No progress bars.")
@user_errors
def preprocess(recipe: str, out: Path | None, overrides: tuple[str, ...], quiet: bool) -> None:
    """Extract and cache RECIPE's features and write per-domain statistics, without training."""
    from . import api

    set_quiet(quiet)
    click.echo(f"written: {api.preprocess(recipe, out=out, overrides=overrides)}")


@main.command()
@click.option("--model", required=True, type=click.Path(path_type=Path), help="Experiment folder, checkpoint or export.")
@click.option("--checkpoint", type=click.Choice(["latest", "best"]), default="latest", show_default=True,
              help="Which checkpoint of an experiment folder.")
@click.option("--direction", required=True, type=click.Choice(["a2b", "b2a"]))
@click.argument("source", type=click.Path(path_type=Path))
@click.argument("target", type=click.Path(path_type=Path))
@click.option("--device", default="auto", show_default=True, help="auto, cpu, cuda or cuda:N.")
@click.option("--workers", type=int, default=None, help="Voice: worker processes for analysis (default: all cores).")
@click.option("--overwrite", is_flag=True, default=None, help="Replace outputs that already exist.")
@click.option("--strict", is_flag=True, default=None,
              help="Refuse inputs unlike the model's source domain (listed as failures) instead of converting "
                   "them with a warning.")
@click.option("--vocoder", type=click.Path(path_type=Path), help="Voice (mel models): vocoder checkpoint or griffin-lim.")
@click.option("--statistics-only", is_flag=True, default=None,
              help="Voice: the identity in place of the generator (per-speaker statistics only), a baseline.")
@click.option("--strength", type=float, help="Voice: how much of the generator's edit to apply: 0 = statistics "
              "only, 1 = the full conversion (default), between them a smaller edit.")
@click.option("--f0-method", type=click.Choice(["harvest", "dio", "fast"]),
              help="Voice (WORLD models): F0 analysis (default: the recipe's features.f0_method).")
@click.option("--binarize", type=click.Choice(["threshold", "density"]), help="Music: threshold or density (as many notes per phrase as the source; default: the recipe's).")
@click.option("--threshold", type=float, help="Music: piano-roll binarisation threshold (default: the recipe's, 0.5).")
@click.option("--instrument", type=int, help="Music: General MIDI program of the output track (default 0, piano).")
@click.option("--render", is_flag=True, default=None, help="Music: also write a WAV preview of every output.")
@click.option("--size", type=click.Choice(["model", "original"]), help="Images: convert at the model's resolution or the original size.")
@click.option("--grid/--no-grid", default=None, help="Images: also write input | output | cycled grids.")
@click.option("--quiet", is_flag=True, help="No progress bars.")
@user_errors
def convert(model: Path, direction: str, source: Path, target: Path, device: str, checkpoint: str, quiet: bool,
            **options: Any) -> None:
    """Convert SOURCE (a file or a folder, recursively) into TARGET, mirroring relative paths.

    Options marked Voice/Music/Images apply to models of that task only."""
    from . import api

    set_quiet(quiet)
    options = {k: str(v) if isinstance(v, Path) else v for k, v in options.items() if v is not None}
    report = api.convert(model, direction, source, target, device=device, checkpoint=checkpoint, **options)
    click.echo(report.summary())
    if not report.ok:
        sys.exit(1)


def parse_strengths(text: str) -> tuple[float, ...]:
    """``"0.5 0.75 1"`` (spaces or commas) -> the strengths in the order given, without repeats."""
    values: list[float] = []
    for word in text.replace(",", " ").split():
        try:
            value = float(word)
        except ValueError:
            raise CycleAudioError(f"--strengths: {word!r} is not a number") from None
        if value not in values:
            values.append(value)
    if not values:
        raise CycleAudioError('--strengths: give at least one strength, e.g. "0.5 0.75 1"')
    return tuple(values)


@main.command("choose-strength")
@click.option("--model", required=True, type=click.Path(path_type=Path), help="Experiment folder or checkpoint.")
@click.option("--checkpoint", type=click.Choice(["latest", "best"]), default="best", show_default=True,
              help="Which checkpoint of an experiment folder.")
@click.option("--strengths", metavar='"S1 S2 ..."',
              help="Edit strengths to try (default: 0.5 0.75 1).")
@click.option("--device", default="auto", show_default=True, help="auto, cpu, cuda or cuda:N.")
@click.option("--json", "json_path", type=click.Path(path_type=Path), help="Write the scores as JSON here.")
@click.option("--quiet", is_flag=True, help="No progress bars.")
@user_errors
def choose_strength(model: Path, checkpoint: str, strengths: str | None, device: str,
                    json_path: Path | None, quiet: bool) -> None:
    """Voice: the edit strength (convert --strength) with the lowest MCD on the model's validation files.

    Scores each strength on the files the training held out, against data.valid_reference, prints one
    line per strength on stderr and the chosen strength on stdout (for scripts)."""
    from . import api

    set_quiet(quiet)
    choice = api.choose_strength(model, parse_strengths(strengths) if strengths is not None else None,
                                 checkpoint=checkpoint, device=device)
    click.echo("\n".join(choice.lines()), err=True)
    if json_path is not None:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps({"mcd_db": choice.mcd_db, "best": choice.best}, indent=2), encoding="utf-8")
    click.echo(f"{choice.best:g}")


@main.command()
@click.argument("converted", type=click.Path(path_type=Path))
@click.argument("reference", type=click.Path(path_type=Path))
@click.option("--source", type=click.Path(path_type=Path), help="Unconverted inputs, evaluated as a baseline.")
@click.option("--task", default=None, help="Task of the files (default: detected from the file types).")
@click.option("--json", "json_path", type=click.Path(path_type=Path), help="Write the results as JSON here.")
@click.option("--baseline", type=click.Path(path_type=Path),
              help="Voice: statistics-only conversions (convert --statistics-only), evaluated as their own row.")
@click.option("--workers", type=int, default=None, help="Voice: worker processes for the analysis (default: all cores).")
@click.option("--classifier", type=click.Path(path_type=Path), help="Music/images: domain-classifier checkpoint.")
@click.option("--cycled", type=click.Path(path_type=Path), help="Music/images: cycled-back files (for transfer strength).")
@click.option("--inception", type=click.Path(path_type=Path), help="Images: InceptionV3 weights file for FID/KID.")
@click.option("--quiet", is_flag=True, help="No progress bars.")
@user_errors
def evaluate(converted: Path, reference: Path, source: Path | None, task: str | None, json_path: Path | None,
             quiet: bool, **options: Any) -> None:
    """Objective metrics of CONVERTED files against REFERENCE files matched by name."""
    from . import api

    set_quiet(quiet)
    options = {k: str(v) if isinstance(v, Path) else v for k, v in options.items() if v is not None}
    result = api.evaluate(converted, reference, source, task=task, **options)
    click.echo(api.format_evaluation(result))
    if json_path is not None:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps(result, indent=2), encoding="utf-8")
        click.echo(f"written: {json_path}")


@main.command()
@click.argument("run", required=False, type=click.Path(path_type=Path))
@click.option("-o", "--out", required=True, type=click.Path(path_type=Path), help="Report folder (index.html + assets/).")
@click.option("--converted", type=click.Path(path_type=Path), help="Converted files (a2b/ and b2a/ for music).")
@click.option("--reference", type=click.Path(path_type=Path), help="References: target speaker, real songs (a/, b/), target images.")
@click.option("--source", type=click.Path(path_type=Path), help="The unconverted inputs.")
@click.option("--baseline", type=click.Path(path_type=Path), help="Voice: statistics-only conversions.")
@click.option("--cycled", type=click.Path(path_type=Path), help="Music/images: cycled-back files.")
@click.option("--evaluation", type=click.Path(path_type=Path), help="JSON written by evaluate --json.")
@click.option("--task", default=None, help="Task of the results (default: from the evaluation, the run or the files).")
@click.option("--limit", type=int, default=8, show_default=True, help="Items shown per direction.")
@user_errors
def report(run: Path | None, out: Path, **options: Any) -> None:
    """Write a self-contained HTML report of RUN (an experiment folder: curves, recipe, checkpoint) and of
    conversion results (players, spectrograms, piano rolls, grids, metrics) into OUT."""
    from . import api

    click.echo(f"written: {api.report(out, run, **options)}")


@main.command()
def recipes() -> None:
    """List the shipped recipes."""
    from .runner import shipped_recipes

    rows = shipped_recipes()
    width = max((len(name) for name, _ in rows), default=0)
    for name, description in rows:
        click.echo(f"{name:<{width}}  {description}")


@main.command()
@click.argument("model", type=click.Path(path_type=Path))
@click.argument("out", type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["torch", "safetensors", "onnx"]), default="torch",
              show_default=True, help="torch: one file; safetensors: weights + JSON sidecar; "
                                      "onnx: OUT_a2b.onnx and OUT_b2a.onnx (or a2b.onnx, b2a.onnx in a folder OUT).")
@user_errors
def export(model: Path, out: Path, fmt: str) -> None:
    """Write an inference-only model (generators + recipe + statistics) from MODEL."""
    from . import api

    click.echo(api.export(model, out, fmt).summary())


@main.command("builtin-data")
@click.argument("task")
@click.argument("out", type=click.Path(path_type=Path))
@user_errors
def builtin_data(task: str, out: Path) -> None:
    """Write TASK's built-in synthetic data set (train and evaluation files) into OUT."""
    from . import api

    click.echo(f"written: {api.write_builtin_data(task, out)}")
