"""Training throughput of every shipped recipe's full-size model, with each speed switch on and off.

    python bench/train_throughput.py [--recipes vc_male2female ...] [--batches 1 4 16]
                                     [--variant LABEL RECIPE KEY=VALUE ...]
                                     [--switches baseline fp32 bf16 fp16 compile channels_last unfused all no_two_step]
                                     [--device auto|cpu|cuda] [--repeats 5] [--out FILE]

Needs only torch and PyYAML: synthetic tensors of each recipe's input shape stand in for data, so it
runs on a bare GPU machine.  Each configuration runs in a fresh process (its own peak memory, its own
compile cache).  Reports seconds/step (median of --repeats after one warm-up step), steps/s,
samples/s (samples = crops per domain), peak memory (CUDA allocator peak, or the process's peak RSS
on CPU) and the achieved TFLOP/s from a FLOP count of one step.  ``--variant`` adds a recipe with
``--set``-style overrides under its own label, so a recipe can be timed side by side with an earlier
or alternative version of itself in one run.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import resource
import sys
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Any, Callable

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from common import median_seconds, report  # noqa: E402

from cycleaudio.config import apply_override, from_dict, read_yaml  # noqa: E402
from cycleaudio.engine.data import RandomCrops  # noqa: E402
from cycleaudio.engine.trainer import TrainingData  # noqa: E402
from cycleaudio.tasks.base import cyclegan_recipe_class  # noqa: E402
import cycleaudio.tasks.image.nets  # noqa: E402,F401  (registers the networks by name)
import cycleaudio.tasks.music.nets  # noqa: E402,F401
import cycleaudio.tasks.voice.nets  # noqa: E402,F401
from cycleaudio.tasks.voice.features import CONDITION_ROWS  # noqa: E402

RECIPES = Path(__file__).resolve().parent.parent / "recipes"
DEFAULT_RECIPES = ["vc_male2female", "vc_mask_male2female", "vc_vc3_male2female", "music_classical2pop",
                   "image_horse2zebra"]
SWITCHES = {
    "baseline": {},  # the recipe as shipped (``precision: auto`` resolves per machine)
    "fp32": {"precision": "fp32"},
    "bf16": {"precision": "bf16"},
    "fp16": {"precision": "fp16"},
    "compile": {"compile": True},
    "channels_last": {"channels_last": True},
    "unfused": {"fused": False},  # torch's default Adam instead of the (default) single-kernel one
    "all": {"precision": "bf16", "compile": True, "channels_last": True},
    "no_two_step": {"two_step": False},  # what VC2's generator-side two-step adversarial terms cost
}
LOSS_SWITCHES = {"two_step"}
OPTIM_SWITCHES = {"fused"}


@dataclasses.dataclass
class _Unused:
    """Stands in for a task's data/features sections, which a synthetic benchmark does not read."""


BenchRecipe = cyclegan_recipe_class("BenchRecipe", _Unused, _Unused)


def sample_shape(raw: dict[str, Any]) -> tuple[int, ...]:
    """One training sample's shape for a recipe, from its features section."""
    f = raw.get("features", {})
    if raw["task"] == "voice":
        if f.get("kind") == "mel":
            return (f.get("n_mels", 80), f.get("crop_frames", 64))
        rows = CONDITION_ROWS[f.get("condition", "none")]  # voicing / log-F0 rows below the envelope
        return (f.get("envelope_dim", 36) + rows, f.get("crop_frames", 128))
    if raw["task"] == "music":
        channels = 2 if f.get("velocity") else 1
        return (channels, f.get("phrase_steps", 64), f.get("pitches", 84))
    if raw["task"] == "image":
        return (3, f.get("crop_size", 256), f.get("crop_size", 256))
    raise ValueError(f"no synthetic input for task {raw['task']!r}")


def bench_recipe(name: str, batch: int, switch: dict[str, Any], device: str,
                 overrides: tuple[str, ...] = ()) -> tuple[Any, tuple[int, ...]]:
    raw = read_yaml(RECIPES / f"{name}.yaml")
    for assignment in overrides:
        apply_override(raw, assignment, "--variant")
    shape = sample_shape(raw)
    train = {**raw.get("train", {}), "batch_size": batch, "device": device, "steps": 10**9,
             "valid_every": 0,  # synthetic inputs have no held-out files
             **{k: v for k, v in switch.items() if k not in LOSS_SWITCHES | OPTIM_SWITCHES}}
    optim = {**raw.get("optim", {}), **{k: v for k, v in switch.items() if k in OPTIM_SWITCHES}}
    loss = {**raw.get("loss", {}), **{k: v for k, v in switch.items() if k in LOSS_SWITCHES}}
    kept = {k: raw[k] for k in ("model", "seed") if k in raw}
    recipe = from_dict(BenchRecipe, {"task": raw["task"], "data": {}, **kept, "loss": loss, "optim": optim,
                                     "train": train}, name)
    return recipe, shape


def measure(name: str, batch: int, switch_name: str, device: str, repeats: int,
            modify: Callable[[Any], None] | None = None, overrides: tuple[str, ...] = (),
            label: str | None = None) -> dict[str, Any]:
    """Time one configuration in this process; ``modify(trainer)`` may swap parts for a baseline,
    ``overrides`` change the recipe (the row is then named ``label``)."""
    from torch.utils.flop_counter import FlopCounterMode

    from cycleaudio.engine.device import pick_device
    from cycleaudio.engine.trainer import CycleGANTrainer

    if os.environ.get("BENCH_THREADS"):
        torch.set_num_threads(int(os.environ["BENCH_THREADS"]))
    recipe, shape = bench_recipe(name, batch, SWITCHES[switch_name], device, overrides)
    dev = pick_device(device)
    items = [torch.rand(*shape[:-1], shape[-1] * 2) for _ in range(4)]
    mixed = RandomCrops(items, shape[-1]) if recipe.loss.mixed != "none" else None
    data = TrainingData(RandomCrops(items, shape[-1]), RandomCrops(items, shape[-1]), {}, mixed, mixed)
    trainer = CycleGANTrainer(recipe, data, dev)
    if modify is not None:
        modify(trainer)
    sync = torch.cuda.synchronize if dev.type == "cuda" else None
    trainer.train_step()  # warm-up (and compilation)
    counter = FlopCounterMode(display=False)
    with counter:
        trainer.train_step()
    seconds = median_seconds(trainer.train_step, repeats, warmup=0, sync=sync)
    peak = (torch.cuda.max_memory_allocated() / 2**20 if dev.type == "cuda"
            else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    flops = counter.get_total_flops()
    return {"recipe": label or name, "switch": switch_name, "batch": batch, "device": dev.type, "s_per_step": seconds,
            "steps_per_s": 1 / seconds, "samples_per_s": batch / seconds, "peak_mb": peak,
            "gflop_per_step": flops / 1e9, "tflops": flops / seconds / 1e12}


def measure_in_fresh_process(*args: Any, **kwargs: Any) -> dict[str, Any]:
    with ProcessPoolExecutor(1, mp_context=get_context("spawn")) as pool:
        return pool.submit(measure, *args, **kwargs).result()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--recipes", nargs="+", default=DEFAULT_RECIPES)
    parser.add_argument("--batches", nargs="+", type=int, default=[1, 4, 16])
    parser.add_argument("--switches", nargs="+", default=list(SWITCHES), choices=list(SWITCHES))
    parser.add_argument("--device", default="auto")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--variant", nargs="+", action="append", default=[], metavar="LABEL RECIPE KEY=VALUE",
                        help="also time RECIPE with these overrides, as row LABEL (repeatable)")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    configs = [(name, name, ()) for name in args.recipes]
    for variant in args.variant:
        if len(variant) < 2:
            parser.error("--variant needs LABEL RECIPE [KEY=VALUE ...]")
        configs.append((variant[0], variant[1], tuple(variant[2:])))
    rows = []
    cuda = torch.cuda.is_available() and args.device != "cpu"
    for label, name, overrides in configs:
        for batch in args.batches:
            for switch in args.switches:
                if switch == "fp16" and not cuda:
                    continue  # fp16 autocast on CPU is not a speed switch
                try:
                    row = measure_in_fresh_process(name, batch, switch, args.device, args.repeats,
                                                   overrides=overrides, label=label)
                except Exception as exc:  # one failing configuration must not end the table
                    row = {"recipe": label, "switch": switch, "batch": batch, "error": str(exc).splitlines()[0][:120]}
                rows.append(row)
                print(row, flush=True)
    columns = ["recipe", "switch", "batch", "device", "s_per_step", "steps_per_s", "samples_per_s", "peak_mb",
               "gflop_per_step", "tflops", "error"]
    report("train_throughput", rows, columns, args.out)


if __name__ == "__main__":
    main()
