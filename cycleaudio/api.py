"""The library entry points behind every CLI command, usable from notebooks and tests.

``train``, ``preprocess``, ``convert``, ``choose_strength``, ``evaluate``, ``export`` mirror the CLI commands one to one;
``load`` gives a converter of in-memory inputs for notebooks; every error a user can cause is a :class:`~cycleaudio.errors.CycleAudioError` with a one-line message.
"""

from __future__ import annotations

import json
from html import escape as html_escape
from pathlib import Path
from typing import Any, Sequence

from . import reporting, runner
from .engine.bundle import check_direction
from .engine.export import plain
from .errors import CycleAudioError
from .tasks.base import ReportInputs, parse_options

shipped_recipes = runner.shipped_recipes
find_recipe = runner.find_recipe


def _exp_dir(recipe: Any, out: str | Path | None) -> Path:
    return Path(out) if out is not None else Path(recipe.train.out_dir)


def train(recipe: Any, out: str | Path | None = None, overrides: tuple[str, ...] | list[str] = (),
          resume: bool = False, progress: bool = True) -> Path:
    """Train from a recipe (path, shipped name, or loaded dataclass); returns the checkpoint (or the
    classifier file) the training produced."""
    recipe = runner.load_recipe(recipe, overrides)
    return runner.train(recipe, _exp_dir(recipe, out), resume=resume, progress=progress)


def preprocess(recipe: Any, out: str | Path | None = None, overrides: tuple[str, ...] | list[str] = ()) -> Path:
    """Extract (and cache) the features of a CycleGAN recipe's data; write ``statistics.json`` to the
    experiment folder."""
    recipe = runner.load_recipe(recipe, overrides)
    task = runner.get_task(recipe.task)
    prepare = getattr(task, "prepare", None)
    if prepare is None:
        raise CycleAudioError(f"{recipe.task} recipes have no separate preprocessing: `cycleaudio train` "
                              f"extracts and caches their features")
    exp_dir = _exp_dir(recipe, out)
    exp_dir.mkdir(parents=True, exist_ok=True)
    data = prepare(recipe, exp_dir)
    summary = {"items_a": len(data.domain_a), "items_b": len(data.domain_b), "statistics": plain(data.statistics)}
    path = exp_dir / "statistics.json"
    path.write_text(json.dumps(summary, indent=2), encoding="utf-8")
    return path


def convert(model: str | Path, direction: str, source: str | Path, target: str | Path, device: str = "auto",
            checkpoint: str = "latest", **options: Any) -> Any:
    """Convert a file or folder with a trained model; returns the task's JobReport.

    ``options`` are the model's task's convert options (``cycleaudio convert --help``); one that does not
    apply to this model's task is an error.
    """
    check_direction(direction)
    bundle = runner.load_bundle(model, device, checkpoint)
    task = runner.get_task(bundle.recipe.task)
    typed = parse_options(task.convert_options, options, f"{task.name} models")
    return task.convert(bundle, direction, Path(source), Path(target), typed)


def load(model: str | Path, device: str = "auto", checkpoint: str = "latest") -> Any:
    """The model's task's converter of in-memory inputs, on ``device`` (voice: ``convert(wave, rate)``,
    music: ``transfer(midi)``, images: ``translate(image)``), so a notebook needs no files."""
    bundle = runner.load_bundle(model, device, checkpoint)
    return runner.get_task(bundle.recipe.task).converter(bundle)


#: the edit strengths ``choose_strength`` tries when given none
DEFAULT_STRENGTHS = (0.5, 0.75, 1.0)


def choose_strength(model: str | Path, strengths: Sequence[float] | None = None, checkpoint: str = "best",
                    device: str = "auto") -> Any:
    """Voice: the validation MCD of a trained model converting at each edit strength (``convert
    --strength``; default :data:`DEFAULT_STRENGTHS`), on the files its training held out and their
    references: a ``StrengthChoice`` whose ``.best`` is the strength to convert with.  The model's
    recipe must have validated with ``data.valid_reference``."""
    strengths = DEFAULT_STRENGTHS if strengths is None else strengths
    bundle = runner.load_bundle(model, device, checkpoint)
    choose = getattr(runner.get_task(bundle.recipe.task), "choose_strength", None)
    if choose is None:
        raise CycleAudioError(f"{bundle.source_path}: the edit strength applies to voice models, "
                              f"this is a {bundle.recipe.task} model")
    return choose(bundle, tuple(strengths))


def detect_task(folder: Path) -> str:
    """The task whose file types ``folder`` (or file) holds, for ``evaluate`` without ``task``."""
    files = [folder] if folder.is_file() else [p for p in folder.rglob("*") if p.is_file()]
    suffixes = {p.suffix.lower() for p in files}
    for name in runner.task_names():
        impl = runner.get_task(name)
        if impl.suffixes and suffixes & set(impl.suffixes):
            return name
    raise CycleAudioError(f"{folder}: no files of a known kind to evaluate")


class Evaluation(dict):
    """An :func:`evaluate` result: a plain dict (JSON, existing code) that Jupyter shows as tables."""

    def _repr_html_(self) -> str:
        scalars = {k: v for k, v in self.items() if not isinstance(v, dict)}
        sections = {k: v for k, v in self.items() if isinstance(v, dict)}
        html = ["<table>", *(f"<tr><th>{_cell(k)}</th><td>{_cell(v)}</td></tr>" for k, v in scalars.items()),
                "</table>"]
        if sections:  # one row per metric, one column per section (source, converted, ...)
            metrics = list(dict.fromkeys(m for section in sections.values() for m in section))
            html.append("<table><tr><th></th>" + "".join(f"<th>{_cell(n)}</th>" for n in sections) + "</tr>")
            html += [f"<tr><th>{_cell(m)}</th>" + "".join(f"<td>{_cell(s.get(m, ''))}</td>" for s in sections.values())
                     + "</tr>" for m in metrics]
            html.append("</table>")
        return "".join(html)


def _cell(value: Any) -> str:
    """One table cell: floats to 4 significant digits, nested values as JSON, escaped for HTML."""
    if isinstance(value, float):
        return f"{value:.4g}"
    return html_escape(json.dumps(plain(value)) if isinstance(value, (dict, list)) else str(value))


def evaluate(converted: str | Path, reference: str | Path, source: str | Path | None = None,
             task: str | None = None, **options: Any) -> Evaluation:
    """Objective metrics of converted files against references (and the unconverted source); a dict
    that renders as tables in Jupyter."""
    converted, reference = Path(converted), Path(reference)
    for path in (converted, reference, *([Path(source)] if source else [])):
        if not path.exists():
            raise CycleAudioError(f"{path}: no such file or folder")
    impl = runner.get_task(task or detect_task(converted))
    typed = parse_options(impl.evaluate_options, options, f"{impl.name} evaluation")
    return Evaluation(impl.evaluate(converted, reference, Path(source) if source else None, typed))


def format_evaluation(result: dict[str, Any]) -> str:
    """The readable table of an :func:`evaluate` result."""
    return runner.get_task(result["task"]).format_evaluation(result)


def export(model: str | Path, out: str | Path, format: str = "torch") -> runner.ExportReport:
    """An inference-only model from a checkpoint, experiment folder or export: ``torch``, ``safetensors``
    (weights + JSON sidecar) or ``onnx`` (one file per generator, checked against torch)."""
    return runner.export(model, Path(out), format)


def report(out: str | Path, run: str | Path | None = None, converted: str | Path | None = None,
           reference: str | Path | None = None, source: str | Path | None = None, baseline: str | Path | None = None,
           cycled: str | Path | None = None, evaluation: str | Path | None = None, task: str | None = None,
           limit: int = 8) -> Path:
    """A self-contained HTML report in ``out`` (``index.html`` + ``assets/``) of an experiment folder
    ``run`` (training curves, recipe, checkpoint) and of results: the folders ``convert``/``evaluate``
    use and ``evaluate``'s JSON (``evaluation``).  The task is ``task``, else the evaluation's, the one
    whose file types ``converted`` holds, or the run's.  Returns the page."""
    given = {"run": run, "converted": converted, "reference": reference, "source": source, "baseline": baseline,
             "cycled": cycled, "evaluation": evaluation}
    paths = {key: Path(value) for key, value in given.items() if value is not None}
    for path in paths.values():
        if not path.exists():
            raise CycleAudioError(f"{path}: no such file or folder")
    if not {"run", "converted", "evaluation"} & set(paths):
        raise CycleAudioError("nothing to report: give an experiment folder, --converted or --evaluation")
    if limit < 1:
        raise CycleAudioError(f"--limit must be at least 1, got {limit}")
    result = _read_evaluation(paths["evaluation"]) if "evaluation" in paths else None
    recipe = reporting.run_recipe(paths["run"]) if "run" in paths else None
    name = (task or (result or {}).get("task")
            or (detect_task(paths["converted"]) if "converted" in paths else recipe.task))
    impl = runner.get_task(name, "--task")
    inputs = ReportInputs(**{k: paths.get(k) for k in ("converted", "reference", "source", "baseline", "cycled")},
                          evaluation=result, recipe=recipe if recipe is not None and recipe.task == name else None,
                          limit=limit)
    return reporting.write_report(Path(out), impl, inputs, paths.get("run"))


def _read_evaluation(path: Path) -> dict[str, Any]:
    try:
        result = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CycleAudioError(f"{path}: not an evaluation JSON file ({exc})") from None
    if not isinstance(result, dict) or "task" not in result:
        raise CycleAudioError(f"{path}: not an evaluation JSON file (no task key; write it with evaluate --json)")
    return result


def write_builtin_data(task: str, out: str | Path) -> Path:
    """A task's built-in synthetic data set, as files."""
    return runner.get_task(task).write_builtin_data(Path(out))
