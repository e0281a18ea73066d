"""Image CycleGAN training speed: iterations per second of the real training step.

Runs ``CycleGANTrainer.train_step`` (both generators, both discriminators, history pool, Adam) of the
shipped horse2zebra recipe on random in-memory images, so the figure is what ``cycleaudio train``
gets minus start-up and checkpoint writes.  Prints a table and writes JSON.  Wall-clock seconds depend on
what else the machine runs (the 1-minute load average is recorded); CPU seconds per iteration
(process time, all threads) are the figure to compare on a shared machine.

    python bench/bench_image.py --size 256 --blocks 9 --batch 1 --threads 2 --json bench/results/image.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import time
from pathlib import Path

import torch

from cycleaudio.runner import load_recipe
from cycleaudio.engine.trainer import CycleGANTrainer, TrainingData
from cycleaudio.tasks.image.dataset import ImageCrops

RECIPE = Path(__file__).resolve().parent.parent / "recipes" / "image_horse2zebra.yaml"


def measure(size: int, blocks: int, channels: int, batch: int, iters: int, warmup: int, device: str,
            precision: str, channels_last: bool) -> dict[str, float | int | str | bool]:
    recipe = load_recipe(RECIPE, [f"features.crop_size={size}", f"features.load_size={size + size // 8}",
                                  f"model.generator.args.n_blocks={blocks}", f"model.generator.args.channels={channels}",
                                  f"train.batch_size={batch}", f"train.precision={precision}",
                                  f"train.channels_last={str(channels_last).lower()}"])
    load = recipe.features.load_size
    images = [torch.randint(0, 256, (3, load, load), dtype=torch.uint8) for _ in range(8)]
    data = TrainingData(ImageCrops(images, size), ImageCrops(images, size), {})
    trainer = CycleGANTrainer(recipe, data, torch.device(device))
    for _ in range(warmup):
        trainer.train_step()
    times, cpu_times = [], []
    for _ in range(iters):
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        start, cpu_start = time.perf_counter(), time.process_time()
        logs = trainer.train_step()
        float(logs["g_total"])  # wait for the step to finish
        times.append(time.perf_counter() - start)
        cpu_times.append(time.process_time() - cpu_start)
    median = statistics.median(times)
    peak = (torch.cuda.max_memory_allocated() / 2**30 if device.startswith("cuda")
            else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20)
    return {"size": size, "blocks": blocks, "channels": channels, "batch": batch, "device": device,
            "precision": precision, "channels_last": channels_last, "threads": torch.get_num_threads(), "iters": iters,
            "seconds_per_iter": median, "iters_per_s": 1.0 / median, "images_per_s": batch / median,
            "cpu_seconds_per_iter": statistics.median(cpu_times), "load_average_1min": os.getloadavg()[0],
            "peak_memory_gib": peak, "torch": torch.__version__, "machine": platform.processor() or platform.machine()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, nargs="+", default=[256], help="crop sizes to measure")
    parser.add_argument("--blocks", type=int, default=9, help="ResNet generator blocks")
    parser.add_argument("--channels", type=int, default=64, help="generator first-layer width")
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--iters", type=int, default=5, help="timed iterations (median reported)")
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--threads", type=int, default=None, help="CPU threads (default: torch's choice)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--precision", default="fp32", choices=["fp32", "bf16", "fp16"])
    parser.add_argument("--channels-last", action="store_true", help="channels-last memory format")
    parser.add_argument("--json", type=Path, help="write the results here")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    rows = [measure(size, args.blocks, args.channels, args.batch, args.iters, args.warmup, args.device, args.precision,
                    args.channels_last)
            for size in args.size]
    print(f"{'size':>5} {'blocks':>6} {'batch':>5} {'device':>7} {'threads':>7} {'s/iter':>8} {'iter/s':>7} "
          f"{'cpu s/iter':>10} {'peak GiB':>9} {'load':>5}")
    for r in rows:
        print(f"{r['size']:>5} {r['blocks']:>6} {r['batch']:>5} {r['device']:>7} {r['threads']:>7} "
              f"{r['seconds_per_iter']:>8.3f} {r['iters_per_s']:>7.3f} {r['cpu_seconds_per_iter']:>10.3f} "
              f"{r['peak_memory_gib']:>9.2f} {r['load_average_1min']:>5.1f}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(rows, indent=2), encoding="utf-8")
        print(f"written: {args.json}")


if __name__ == "__main__":
    main()
