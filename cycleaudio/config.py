"""Typed recipes: YAML in, validated dataclasses out.

A recipe is one YAML file.  Its ``task`` key picks the task, the task names the dataclass the whole
recipe must match, and :func:`from_dict` checks every key and value against that dataclass, so a typo
or a wrong type is a one-line :class:`RecipeError` naming the file, the key and what is allowed.
``--set a.b.c=value`` overrides are applied to the raw mapping before validation, so they are checked
exactly like the file itself.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from .errors import RecipeError

_MISSING = dataclasses.MISSING


# --------------------------------------------------------------------------- shared recipe sections
@dataclass
class ComponentConfig:
    """A registered network picked by ``name``, built with ``args``."""

    name: str
    args: dict[str, Any] = field(default_factory=dict)


@dataclass
class ModelConfig:
    generator: ComponentConfig
    discriminator: ComponentConfig


@dataclass
class LossConfig:
    """Weights and switches of the CycleGAN objective (see ``engine.cyclegan``)."""

    adversarial: Literal["lsgan", "nonsaturating", "hinge", "wgan_gp"] = "lsgan"
    lambda_cycle: float = 10.0
    cycle_loss: Literal["l1", "bce"] = "l1"
    bce_on_weight: float = 1.0
    lambda_identity: float = 0.0
    identity_off_step: int | None = None
    two_step: bool = False
    lambda_two_step: float = 1.0
    pool_size: int = 0
    d_input_noise: float = 0.0
    mixed: Literal["none", "partial", "full"] = "none"
    lambda_mixed: float = 1.0
    mixed_generator_term: bool = True
    gp_weight: float = 10.0
    mask_max_frames: int = 0

    def validate(self) -> None:
        if self.bce_on_weight <= 0:
            raise ValueError("bce_on_weight must be > 0 (1: unweighted binary cross-entropy)")


@dataclass
class ScheduleConfig:
    """Learning rate held for ``constant`` units, then decayed linearly to zero over ``decay`` units."""

    unit: Literal["step", "epoch"] = "step"
    constant: int = 200_000
    decay: int = 200_000


@dataclass
class OptimConfig:
    g_lr: float = 2e-4
    d_lr: float = 1e-4
    betas: tuple[float, float] = (0.5, 0.999)
    schedule: ScheduleConfig = field(default_factory=ScheduleConfig)
    grad_clip: float | None = None
    fused: bool = False


@dataclass
class TrainConfig:
    """How long, how big and how often; ``steps`` or ``epochs`` sets the length."""

    steps: int | None = None
    epochs: int | None = None
    batch_size: int = 1
    precision: Literal["fp32", "bf16", "fp16"] = "fp32"
    device: str = "auto"
    compile: bool = False
    channels_last: bool = False
    log_every: int = 50
    sample_every: int = 1000
    checkpoint_every: int = 1000
    keep_checkpoints: int = 3
    out_dir: str = "exp/default"


# --------------------------------------------------------------------------- validation
def _type_name(tp: Any) -> str:
    origin = typing.get_origin(tp)
    if origin is Literal:
        return "one of " + ", ".join(repr(a) for a in typing.get_args(tp))
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_type_name(a) for a in typing.get_args(tp))
    if tp is type(None):
        return "null"
    if dataclasses.is_dataclass(tp):
        return "a mapping"
    if origin is not None:
        return getattr(origin, "__name__", str(tp))
    return getattr(tp, "__name__", str(tp))


def _convert(value: Any, tp: Any, where: str, source: str) -> Any:
    """Check ``value`` against the annotation ``tp``; return it converted (tuples, nested dataclasses)."""
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)

    def fail() -> RecipeError:
        return RecipeError(f"{source}: {where} must be {_type_name(tp)}, got {value!r}")

    if tp is Any:
        return value
    if dataclasses.is_dataclass(tp):
        if not isinstance(value, dict):
            raise fail()
        return from_dict(tp, value, source, prefix=where + ".")
    if origin is Literal:
        if value not in args:
            raise fail()
        return value
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        for option in args:
            if option is type(None):
                continue
            try:
                return _convert(value, option, where, source)
            except RecipeError:
                continue
        raise fail()
    if origin is list:
        if not isinstance(value, list):
            raise fail()
        return [_convert(v, args[0], f"{where}[{i}]", source) for i, v in enumerate(value)]
    if origin is tuple:
        if not isinstance(value, (list, tuple)) or len(value) != len(args):
            raise fail()
        return tuple(_convert(v, a, f"{where}[{i}]", source) for i, (v, a) in enumerate(zip(value, args)))
    if origin is dict:
        if not isinstance(value, dict):
            raise fail()
        return {str(k): _convert(v, args[1], f"{where}.{k}", source) for k, v in value.items()}
    if tp is float:
        if isinstance(value, str):  # YAML 1.1 reads 1e-4 (no dot) as a string
            try:
                return float(value)
            except ValueError:
                raise fail() from None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise fail()
        return float(value)
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise fail()
        return value
    if tp in (str, bool):
        if not isinstance(value, tp):
            raise fail()
        return value
    raise TypeError(f"unsupported recipe annotation {tp!r} at {where}")


def from_dict(cls: type, data: dict[str, Any], source: str = "<recipe>", prefix: str = "") -> Any:
    """Build dataclass ``cls`` from ``data``, rejecting unknown keys, missing keys and wrong types."""
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise RecipeError(
            f"{source}: unknown key {prefix}{unknown[0]}; allowed under "
            f"{prefix.rstrip('.') or 'the top level'}: {', '.join(fields)}"
        )
    values: dict[str, Any] = {}
    for name, f in fields.items():
        if name in data:
            values[name] = _convert(data[name], hints[name], prefix + name, source)
        elif f.default is _MISSING and f.default_factory is _MISSING:
            raise RecipeError(f"{source}: missing key {prefix}{name}")
    instance = cls(**values)
    check = getattr(instance, "validate", None)
    if check is not None:
        try:
            check()
        except ValueError as exc:
            raise RecipeError(f"{source}: {prefix}{exc}") from exc
    return instance


def to_dict(instance: Any) -> dict[str, Any]:
    """Plain, YAML- and checkpoint-safe mapping of a recipe (tuples become lists)."""

    def plain(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [plain(v) for v in value]
        return value

    return plain(dataclasses.asdict(instance))


# --------------------------------------------------------------------------- overrides and loading
def apply_override(raw: dict[str, Any], assignment: str, source: str = "--set") -> None:
    """Apply one ``a.b.c=value`` override in place; ``value`` is parsed as YAML (``1e-4``, ``true``, ``[1, 2]``)."""
    if "=" not in assignment:
        raise RecipeError(f"{source}: {assignment!r} is not KEY=VALUE")
    key, text = assignment.split("=", 1)
    parts = key.strip().split(".")
    if not all(parts):
        raise RecipeError(f"{source}: {key!r} is not a dotted key such as train.steps")
    try:
        value = yaml.safe_load(text) if text.strip() else ""
    except yaml.YAMLError as exc:
        raise RecipeError(f"{source}: cannot parse value of {key}: {exc}") from exc
    node = raw
    for part in parts[:-1]:
        child = node.get(part)
        if child is None:
            child = node[part] = {}
        if not isinstance(child, dict):
            raise RecipeError(f"{source}: {'.'.join(parts[:-1])} is not a mapping, cannot set {key}")
        node = child
    node[parts[-1]] = value


def read_yaml(path: Path) -> dict[str, Any]:
    """Read a recipe file into a mapping, turning every read or parse problem into a RecipeError."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RecipeError(f"{path}: recipe not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise RecipeError(f"{path}: cannot read recipe ({exc})") from None
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}" if mark is not None else ""
        raise RecipeError(f"{path}: not valid YAML{at}") from None
    if not isinstance(raw, dict):
        raise RecipeError(f"{path}: a recipe must be a mapping of keys to values")
    return raw


def resolve_recipe(raw: dict[str, Any], source: str) -> Any:
    """Validate a raw mapping against the recipe class of the task it names."""
    from .tasks import get_task

    task_name = raw.get("task")
    if not isinstance(task_name, str):
        raise RecipeError(f"{source}: missing key task")
    task = get_task(task_name, source)
    return from_dict(task.recipe_class, raw, source)


def load_recipe(path: Path | str, overrides: list[str] | tuple[str, ...] = ()) -> Any:
    """Load, override and validate a recipe file; the result is the task's recipe dataclass."""
    path = Path(path)
    raw = read_yaml(path)
    for assignment in overrides:
        apply_override(raw, assignment)
    return resolve_recipe(raw, str(path))
