"""The library entry points behind every CLI command, usable from notebooks and tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .errors import CycleAudioError

REPO_RECIPES = Path(__file__).resolve().parent.parent / "recipes"


def find_recipe(name_or_path: str | Path) -> Path:
    """A recipe path as given, or a shipped recipe's name (``vc_male2female``)."""
    path = Path(name_or_path)
    if path.is_file():
        return path
    for folder in (Path("recipes"), REPO_RECIPES):
        candidate = folder / f"{path.name.removesuffix('.yaml')}.yaml"
        if candidate.is_file():
            return candidate
    return path  # load_recipe reports it as not found


def shipped_recipes() -> list[tuple[str, str]]:
    """(name, description) of every recipe in the project's ``recipes/`` folder."""
    from .config import read_yaml

    rows = []
    for path in sorted(REPO_RECIPES.glob("*.yaml")):
        description = read_yaml(path).get("description", "")
        rows.append((path.stem, str(description).strip().splitlines()[0] if description else ""))
    return rows


def _load(recipe: Any, overrides: tuple[str, ...] | list[str]) -> Any:
    from .config import load_recipe

    if isinstance(recipe, (str, Path)):
        return load_recipe(find_recipe(recipe), overrides)
    if overrides:
        raise CycleAudioError("overrides apply to recipe files; edit the recipe object directly instead")
    return recipe


def preprocess(recipe: Any, out: str | Path | None = None, overrides: tuple[str, ...] | list[str] = ()) -> Path:
    """Extract (and cache) the features of a recipe's data; write ``statistics.json`` to the experiment folder."""
    import json

    from .tasks import get_task

    recipe = _load(recipe, overrides)
    exp_dir = Path(out) if out is not None else Path(recipe.train.out_dir)
    exp_dir.mkdir(parents=True, exist_ok=True)
    data = get_task(recipe.task).prepare(recipe, exp_dir)

    def plain(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        return value.tolist() if hasattr(value, "tolist") else value

    summary = {"items_a": len(data.domain_a), "items_b": len(data.domain_b), "statistics": plain(data.statistics)}
    path = exp_dir / "statistics.json"
    path.write_text(json.dumps(summary, indent=2), encoding="utf-8")
    return path


def train(recipe: Any, out: str | Path | None = None, overrides: tuple[str, ...] | list[str] = (),
          resume: bool = False, progress: bool = True) -> Path:
    """Train from a recipe (path, shipped name, or loaded dataclass); returns the last checkpoint."""
    from .tasks import get_task

    recipe = _load(recipe, overrides)
    exp_dir = Path(out) if out is not None else Path(recipe.train.out_dir)
    return get_task(recipe.task).train(recipe, exp_dir, resume=resume, progress=progress)


def convert(model: str | Path, direction: str, source: str | Path, target: str | Path,
            device: str = "auto", **options: Any) -> Any:
    """Convert a file or folder with a trained model; returns the task's JobReport."""
    from .bundle import check_direction, load_bundle
    from .tasks import get_task

    check_direction(direction)
    bundle = load_bundle(model, device)
    task = get_task(bundle.recipe.task)
    return task.convert(bundle, direction, Path(source), Path(target), options)


def detect_task(folder: Path) -> str:
    """The task whose file types ``folder`` (or file) holds, for ``evaluate`` without ``--task``."""
    from .tasks import get_task, task_names

    files = [folder] if folder.is_file() else [p for p in folder.rglob("*") if p.is_file()]
    suffixes = {p.suffix.lower() for p in files}
    for name in task_names():
        task = get_task(name)
        if task.suffixes and suffixes & set(task.suffixes):
            return name
    raise CycleAudioError(f"{folder}: no files of a known kind to evaluate")


def evaluate(converted: str | Path, reference: str | Path, source: str | Path | None = None,
             task: str | None = None, **options: Any) -> dict[str, Any]:
    """Objective metrics of converted files against references (and the unconverted source)."""
    from .tasks import get_task

    converted, reference = Path(converted), Path(reference)
    for path in (converted, reference, *( [Path(source)] if source else [])):
        if not path.exists():
            raise CycleAudioError(f"{path}: no such file or folder")
    impl = get_task(task or detect_task(converted))
    return impl.evaluate(converted, reference, Path(source) if source else None, options)
