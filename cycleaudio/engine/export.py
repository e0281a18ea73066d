"""Model files for other runtimes: safetensors weights with a JSON sidecar, and ONNX generators.

safetensors holds tensors only, so the recipe, statistics, step and version go in a JSON file next to
it (``<name>.json``); together they load like a torch export.  ONNX files hold one generator each, with
the batch and the time/size axes left dynamic so one file converts inputs of any length.  Both
libraries are optional (the ``export`` extra) and imported only here, on use.
"""

from __future__ import annotations

import importlib
import json
import warnings
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import torch
from torch import nn

from ..errors import CycleAudioError
from ..files import replaced_atomically

SAFETENSORS_SUFFIX = ".safetensors"
#: an opset the TorchScript-based exporter (``dynamo=False``: it needs no onnxscript) writes for every
#: generator family and onnxruntime 1.17+ runs
ONNX_OPSET = 17
GENERATOR_KEYS = ("g_ab", "g_ba")


def optional_module(name: str) -> ModuleType:
    """Import an optional dependency, or a one-line error saying how to install it."""
    try:
        return importlib.import_module(name)
    except ImportError:
        raise CycleAudioError(f"{name} is not installed; pip install 'cycleaudio[export]'") from None


def sidecar_path(weights: Path) -> Path:
    """``model.safetensors`` -> ``model.json``: the metadata safetensors cannot hold."""
    return weights.with_suffix(".json")


def plain(value: Any) -> Any:
    """Tensors and arrays (nested in dicts and lists) as lists, so they can be written as JSON."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value.tolist() if hasattr(value, "tolist") else value


def write_safetensors(state: dict[str, Any], out: Path) -> list[Path]:
    """``state`` (an export: generators, recipe, statistics, step, version, format) as ``out`` + sidecar."""
    save_file = optional_module("safetensors.torch").save_file
    tensors = {f"{key}.{name}": tensor.contiguous() for key in GENERATOR_KEYS
               for name, tensor in state["generators"][key].items()}
    meta = {k: plain(v) for k, v in state.items() if k != "generators"}
    with replaced_atomically(out) as tmp:
        save_file(tensors, str(tmp), metadata={"format": str(state["format"])})
        sidecar = sidecar_path(out)
        sidecar.write_text(json.dumps(meta, indent=2), encoding="utf-8")
    return [out, sidecar]


def read_safetensors(path: Path) -> dict[str, Any]:
    """The state :func:`write_safetensors` wrote, shaped like a torch export (statistics stay lists)."""
    load_file = optional_module("safetensors.torch").load_file
    sidecar = sidecar_path(path)
    if not sidecar.is_file():
        raise CycleAudioError(f"{path}: its sidecar {sidecar.name} (recipe and statistics) is missing")
    try:
        tensors = load_file(str(path))
        state = json.loads(sidecar.read_text(encoding="utf-8"))
    except Exception as exc:  # safetensors and json raise several types for foreign files
        raise CycleAudioError(f"{path}: not a readable cycleaudio safetensors export ({type(exc).__name__})") from None
    generators: dict[str, dict[str, torch.Tensor]] = {key: {} for key in GENERATOR_KEYS}
    for name, tensor in tensors.items():
        key, _, param = name.partition(".")
        if key not in generators:
            raise CycleAudioError(f"{path}: unexpected tensor {name!r} (not a cycleaudio export)")
        generators[key][param] = tensor
    return {**state, "generators": generators}


def export_onnx(generator: nn.Module, example: torch.Tensor, check: torch.Tensor, dynamic_axes: dict[int, str],
                out: Path) -> float:
    """Write ``generator`` (traced on ``example``) to ``out`` and return the largest absolute difference
    between onnxruntime and torch on ``check``, an input of another size, which proves the dynamic axes."""
    optional_module("onnx")
    ort = optional_module("onnxruntime")
    generator = generator.eval().cpu()
    out.parent.mkdir(parents=True, exist_ok=True)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the exporter's deprecation and tracer chatter
            torch.onnx.export(generator, (example,), str(out), input_names=["input"], output_names=["output"],
                              dynamic_axes={"input": dynamic_axes, "output": dynamic_axes},
                              opset_version=ONNX_OPSET, dynamo=False)
    except Exception as exc:  # the exporter raises many types for unsupported operators
        out.unlink(missing_ok=True)
        raise CycleAudioError(f"{type(generator).__name__} cannot be exported to ONNX with dynamic axes "
                              f"({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})") from None
    session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    (produced,) = session.run(None, {"input": check.numpy()})
    with torch.no_grad():
        expected = generator(check).numpy()
    if produced.shape != expected.shape:
        raise CycleAudioError(f"{out}: ONNX output shape {produced.shape} differs from torch {expected.shape}")
    return float(np.max(np.abs(produced - expected)))
