"""The runner: recipe name -> task -> a training run, and checkpoint -> a model ready to convert.

Every kind of training (CycleGAN, vocoder, genre and image classifiers) goes through :func:`train`:
experiment folder, resolved recipe, resume, Ctrl-C, data-parallel processes and logging are handled
here once, and the task only supplies its data and trainer (``Task.start_training``).  It is also the
one place that knows which tasks exist (:data:`TASK_MODULES`), so lower layers never import upwards.
"""

from __future__ import annotations

import difflib
import importlib
import subprocess
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from .config import apply_override, from_dict, read_yaml, to_dict
from .engine.bundle import ModelBundle
from .engine.checkpoint import (
    BEST_FILE,
    BEST_KEY,
    EXPORT_FORMAT,
    BestCheckpoint,
    GENERATOR_FORMATS,
    read_checkpoint,
    save_training_checkpoint,
    step_checkpoints,
    write_atomically,
)
from .engine.cyclegan import build_generators
from .engine.device import pick_device
from .engine.distributed import init_distributed, shutdown_distributed
from .engine.export import SAFETENSORS_SUFFIX, export_onnx, read_safetensors, write_safetensors
from .engine.monitor import TrainingMonitor
from .engine.trainer import run_steps
from .errors import CycleAudioError, RecipeError
from .tasks.base import Task
from .version import __version__

#: a recipe's ``task`` name -> the module whose ``TASK`` implements it (imported on demand, so the voice
#: task never pays for importing the image task's dependencies and vice versa)
TASK_MODULES: dict[str, str] = {
    "voice": "cycleaudio.tasks.voice",
    "image": "cycleaudio.tasks.image",
    "image_classifier": "cycleaudio.tasks.image.classifier_task",
    "music": "cycleaudio.tasks.music",
    "music_classifier": "cycleaudio.tasks.music.classifier_task",
    "vocoder": "cycleaudio.tasks.voice.vocoder.task",
}

_loaded: dict[str, Task] = {}


# --------------------------------------------------------------------------- tasks and recipes
def task_names() -> list[str]:
    return sorted(TASK_MODULES)


def get_task(name: str, source: str = "<recipe>") -> Task:
    """The task object for ``name``; an unknown name is a RecipeError listing the known ones."""
    if name not in TASK_MODULES:
        raise RecipeError(f"{source}: task must be one of {', '.join(task_names())}, got {name!r}")
    if name not in _loaded:
        _loaded[name] = importlib.import_module(TASK_MODULES[name]).TASK
    return _loaded[name]


def resolve_recipe(raw: dict[str, Any], source: str) -> Any:
    """Validate a raw mapping against the recipe class of the task it names."""
    task_name = raw.get("task")
    if not isinstance(task_name, str):
        raise RecipeError(f"{source}: missing key task")
    return from_dict(get_task(task_name, source).recipe_class, raw, source)


def recipe_folders() -> list[Path]:
    """Where shipped recipes are: inside the installed package (a wheel carries them as
    ``cycleaudio/recipes``), else the source tree's top-level ``recipes/``."""
    folders = []
    try:
        packaged = resources.files("cycleaudio") / "recipes"
        if packaged.is_dir():
            folders.append(Path(str(packaged)))
    except (ModuleNotFoundError, TypeError):
        pass
    source_tree = Path(__file__).resolve().parent.parent / "recipes"
    if source_tree.is_dir() and source_tree not in folders:
        folders.append(source_tree)
    return folders


def shipped_recipe_paths() -> dict[str, Path]:
    """Shipped recipe name -> file (the first folder that has a name wins)."""
    found: dict[str, Path] = {}
    for folder in recipe_folders():
        for path in sorted(folder.glob("*.yaml")):
            found.setdefault(path.stem, path)
    return found


def shipped_recipes() -> list[tuple[str, str]]:
    """(name, first line of its description) of every shipped recipe."""
    rows = []
    for name, path in sorted(shipped_recipe_paths().items()):
        description = str(read_yaml(path).get("description", "") or "").strip()
        rows.append((name, description.splitlines()[0] if description else ""))
    return rows


def find_recipe(name_or_path: str | Path) -> Path:
    """A recipe file as given, or a shipped recipe's name (``vc_male2female``); an unknown name is a
    one-line error that suggests the nearest shipped names."""
    path = Path(name_or_path)
    if path.is_file():
        return path
    name = path.name.removesuffix(".yaml")
    local = Path("recipes") / f"{name}.yaml"
    if local.is_file():
        return local
    shipped = shipped_recipe_paths()
    if name in shipped:
        return shipped[name]
    if path.suffix or len(path.parts) > 1:
        raise RecipeError(f"{path}: recipe not found")
    near = difflib.get_close_matches(name, list(shipped), n=3, cutoff=0.5)
    hint = f"; did you mean {' or '.join(near)}?" if near else "; `cycleaudio recipes` lists the shipped ones"
    raise RecipeError(f"{name}: no such recipe file or shipped recipe{hint}")


def load_recipe(recipe: Any, overrides: tuple[str, ...] | list[str] = ()) -> Any:
    """A recipe given as a path, a shipped name or an already loaded dataclass, with ``--set`` overrides."""
    if not isinstance(recipe, (str, Path)):
        if overrides:
            raise CycleAudioError("overrides apply to recipe files; edit the recipe object directly instead")
        return recipe
    path = find_recipe(recipe)
    raw = read_yaml(path)
    for assignment in overrides:
        apply_override(raw, assignment)
    return resolve_recipe(raw, str(path))


# --------------------------------------------------------------------------- training
def _git_revision() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=5,
                             cwd=Path(__file__).parent)
        return out.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def write_resolved_recipe(recipe: Any, exp_dir: Path) -> None:
    header = f"# resolved recipe, cycleaudio {__version__}, git {_git_revision()}\n"
    text = yaml.safe_dump(to_dict(recipe), sort_keys=False)
    (exp_dir / "recipe.yaml").write_text(header + text, encoding="utf-8")


def check_exp_dir(exp_dir: Path, resume: bool) -> None:
    """Refuse to overwrite a run's checkpoints unless resuming, and to resume a run that has none."""
    if step_checkpoints(exp_dir / "checkpoints") and not resume:
        raise CycleAudioError(f"{exp_dir}: already holds checkpoints; pass --resume to continue or --out for a new folder")
    if resume and not (exp_dir / "checkpoints" / "latest.pt").is_file():
        raise CycleAudioError(f"{exp_dir}: nothing to resume (no checkpoints/latest.pt)")


def train(recipe: Any, exp_dir: Path, resume: bool = False, progress: bool = True) -> Path:
    """Train (or resume) any task's model from a loaded recipe; returns the file to use (the last
    checkpoint, or what the task's training produces, e.g. ``classifier.pt``)."""
    task = get_task(recipe.task)
    context, device_name = init_distributed(recipe.train.device)
    try:
        if context.enabled and not task.distributed:
            raise CycleAudioError(f"{recipe.task} training runs in one process; start it without torchrun")
        check_exp_dir(exp_dir, resume)
        exp_dir.mkdir(parents=True, exist_ok=True)
        device = pick_device(device_name)
        run = task.start_training(recipe, exp_dir, device, context)
        trainer = run.trainer
        best = BestCheckpoint(exp_dir / BEST_FILE, run.valid_criterion)
        if resume:
            state = read_checkpoint(exp_dir, [trainer.checkpoint_format], map_location=device)[1]
            trainer.load_state_dict(state)
            best.restore(state)
        if context.is_main:
            write_resolved_recipe(recipe, exp_dir)
        monitor = TrainingMonitor(exp_dir, trainer.total_steps, trainer.step, progress and context.is_main,
                                  enabled=context.is_main, reduce=context.mean)
        monitor.log_text(f"training {recipe.task} on {device} x {context.world_size} process(es) for "
                         f"{trainer.total_steps} steps (from step {trainer.step}), global batch "
                         f"{recipe.train.batch_size}, precision {getattr(trainer, 'precision', 'fp32')}")
        checkpoint_dir = exp_dir / "checkpoints"

        def checkpoint(state: dict[str, Any]) -> Path:
            if not context.is_main:
                return checkpoint_dir / f"step_{trainer.step:07d}.pt"
            if best.record() is not None:
                state[BEST_KEY] = best.record()
            return save_training_checkpoint(state, checkpoint_dir, trainer.step, recipe.train.keep_checkpoints)

        def samples() -> None:
            if context.is_main:
                run.samples(monitor.writer)

        def validate() -> None:
            values = run.validate()
            if values is None:
                return
            if best.offer(values[run.valid_criterion], trainer.step, trainer.state_dict):
                note = f"(best {run.valid_criterion} so far: written to {BEST_FILE})"
            elif best.step >= 0:
                note = f"(best {run.valid_criterion} {best.value:.4f} at step {best.step})"
            else:
                note = f"({run.valid_criterion} not finite: no {BEST_FILE} yet)"
            monitor.log_values("valid", trainer.step, values, note + still_identity_note(values, trainer.step,
                                                                                           trainer.total_steps))

        last = run_steps(trainer, recipe.train, monitor, checkpoint, samples, validate, run.valid_every)
        produced = run.finish() if context.is_main else None
        context.barrier()  # no rank tears the process group down while another still uses it
        return produced or last
    finally:
        shutdown_distributed(context)


#: validation cycle and identity losses (L1 on normalised features) below this: both generators copy their input
IDENTITY_LOSS_FLOOR = 1e-3


def still_identity_note(values: dict[str, float], step: int, total_steps: int) -> str:
    """A warning for the validation line when, past half the run, the validation cycle and identity losses
    are both about zero: the generators still copy their input (a residual generator that the cycle and
    identity losses hold at the identity), so the model converts like the statistics alone."""
    if step * 2 < total_steps or not {"cycle", "identity"} <= values.keys():
        return ""
    if max(values["cycle"], values["identity"]) >= IDENTITY_LOSS_FLOOR:
        return ""
    return (f" warning: the generators still copy their input (validation cycle and identity losses below "
            f"{IDENTITY_LOSS_FLOOR}); lower loss.lambda_identity or loss.lambda_cycle, or train longer")


# --------------------------------------------------------------------------- trained models
def model_file(path: Path | str, which: str = "latest") -> Path:
    """The checkpoint of an experiment folder to convert with: ``latest`` or ``best``; a file is itself."""
    path = Path(path)
    if not path.is_dir():
        return path
    if which == "best":
        if not (path / BEST_FILE).is_file():
            raise CycleAudioError(f"{path}: no {BEST_FILE} (it is written when the recipe validates during training)")
        return path / BEST_FILE
    return path


def read_model(path: Path | str, which: str = "latest") -> tuple[Path, dict[str, Any]]:
    """(file, state) of an experiment folder, training checkpoint, torch export or safetensors export."""
    file = model_file(path, which)
    if file.suffix == SAFETENSORS_SUFFIX:
        if not file.is_file():
            raise CycleAudioError(f"{file}: no such file")
        return file, read_safetensors(file)
    return read_checkpoint(file, GENERATOR_FORMATS, "cycleaudio model checkpoint", mmap=True)


def load_bundle(path: Path | str, device: str = "auto", which: str = "latest") -> ModelBundle:
    """Generators for inference from an experiment folder, training checkpoint or export file."""
    file, state = read_model(path, which)
    recipe = resolve_recipe(state["recipe"], str(file))
    g_ab, g_ba = build_generators(recipe.model)
    try:
        g_ab.load_state_dict(state["generators"]["g_ab"])
        g_ba.load_state_dict(state["generators"]["g_ba"])
    except (RuntimeError, KeyError) as exc:
        raise CycleAudioError(f"{file}: generator weights do not match the recipe's model "
                              f"({str(exc).splitlines()[0]})") from None
    target = pick_device(device)
    g_ab.to(target).eval()
    g_ba.to(target).eval()
    return ModelBundle(recipe, g_ab, g_ba, state.get("statistics", {}), target, file, int(state.get("step", 0)))


EXPORT_FORMATS = ("torch", "safetensors", "onnx")


@dataclass
class ExportReport:
    """The files an export wrote and, for ONNX, the largest |onnxruntime - torch| per direction."""

    files: list[Path]
    max_abs_diff: dict[str, float] = field(default_factory=dict)

    def summary(self) -> str:
        lines = [f"written: {path}" for path in self.files]
        lines += [f"{direction}: max abs difference onnxruntime vs torch {diff:.3g}"
                  for direction, diff in self.max_abs_diff.items()]
        return "\n".join(lines)


def _refuse_existing(*paths: Path) -> None:
    for path in paths:
        if path.exists():
            raise CycleAudioError(f"{path}: already exists; not overwriting")


def export(path: Path | str, out: Path, fmt: str = "torch") -> ExportReport:
    """An inference-only model: ``torch`` (one file: generators, recipe, statistics, step, version),
    ``safetensors`` (weights + JSON sidecar) or ``onnx`` (one generator per file, ``OUT_a2b.onnx`` and
    ``OUT_b2a.onnx``, or inside OUT when it is a folder)."""
    if fmt not in EXPORT_FORMATS:
        raise CycleAudioError(f"export format must be one of {', '.join(EXPORT_FORMATS)}, got {fmt!r}")
    if fmt == "onnx":
        return _export_onnx(path, out)
    state = read_model(path)[1]
    export_state = {"format": EXPORT_FORMAT, "version": __version__, "recipe": state["recipe"],
                    "statistics": state.get("statistics", {}), "generators": state["generators"],
                    "step": int(state.get("step", 0))}
    if fmt == "torch":
        _refuse_existing(out)
        write_atomically(export_state, out)
        return ExportReport([out])
    out = out if out.suffix == SAFETENSORS_SUFFIX else out.with_name(out.name + SAFETENSORS_SUFFIX)
    _refuse_existing(out, out.with_suffix(".json"))
    return ExportReport(write_safetensors(export_state, out))


def _export_onnx(path: Path | str, out: Path) -> ExportReport:
    bundle = load_bundle(path, "cpu")
    inputs = get_task(bundle.recipe.task).onnx_inputs(bundle.recipe)
    stem = out.with_suffix("") if out.suffix == ".onnx" else out
    targets = {d: (out / f"{d}.onnx" if out.is_dir() else stem.with_name(f"{stem.name}_{d}.onnx"))
               for d in ("a2b", "b2a")}
    _refuse_existing(*targets.values())
    diffs = {d: export_onnx(bundle.generator(d), inputs.example, inputs.check, inputs.dynamic_axes, target)
             for d, target in targets.items()}
    return ExportReport(list(targets.values()), diffs)
