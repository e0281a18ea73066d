"""Music task benchmark: MIDI preprocessing (phrases/s, cold and warm cache) and training steps/s.

    python bench/bench_music.py [--data DIR ...] [--workers N] [--threads N] [--steps N] [--batch 16]
                                [--model paper|small] [--json out.json]

Without ``--data`` the built-in synthetic songs (80 per style) are written to a temporary folder and
parsed.  Training uses the shipped recipe's networks (``paper``: 64 channels, 10 blocks; ``small``:
16 channels, 4 blocks) on random phrases, timed after two warm-up steps (median of per-step times).
Prints a table and the JSON.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import torch

from cycleaudio.runner import load_recipe
from cycleaudio.jobs import find_inputs
from cycleaudio.engine.trainer import CycleGANTrainer, TrainingData
from cycleaudio.tasks.music.corpus import SUFFIXES, PhraseSource, corpus_phrases, load_corpus
from cycleaudio.tasks.music.roll import RollSettings
from cycleaudio.tasks.music.synthetic import write_style

RECIPE = Path(__file__).resolve().parent.parent / "recipes" / "music_classical2pop.yaml"
SMALL = ["model.generator.args.channels=16", "model.generator.args.n_blocks=4",
         "model.discriminator.args.channels=16", "model.discriminator.args.wide_channels=64"]


def bench_preprocessing(files: list[Path], workers: int) -> dict[str, float]:
    settings = RollSettings()
    with tempfile.TemporaryDirectory() as cache:
        start = time.perf_counter()
        corpus = load_corpus(files, settings, Path(cache), workers)
        cold = time.perf_counter() - start
        phrases = int(corpus_phrases(corpus, 64).shape[0])
        start = time.perf_counter()
        load_corpus(files, settings, Path(cache), workers)
        warm = time.perf_counter() - start
    return {"files": len(files), "songs": len(corpus.songs), "phrases": phrases, "workers": workers,
            "cold_s": cold, "warm_s": warm, "phrases_per_s_cold": phrases / cold, "phrases_per_s_warm": phrases / warm,
            "files_per_s_cold": len(files) / cold}


def bench_training(model: str, batch: int, steps: int, mixed: str) -> dict[str, float]:
    overrides = [f"train.batch_size={batch}", "train.device=cpu", f"loss.mixed={mixed}"]
    recipe = load_recipe(RECIPE, overrides + (SMALL if model == "small" else []))
    gen = torch.Generator().manual_seed(0)
    phrases = (torch.rand(256, 1, 64, 84, generator=gen) < 0.05).to(torch.uint8)
    source = PhraseSource(phrases)
    data = TrainingData(source, source, {}, mixed_a=source if mixed != "none" else None,
                        mixed_b=source if mixed != "none" else None)
    trainer = CycleGANTrainer(recipe, data, torch.device("cpu"))
    times = []
    for i in range(steps + 2):
        start = time.perf_counter()
        trainer.train_step()
        if i >= 2:
            times.append(time.perf_counter() - start)
    median = statistics.median(times)
    return {"model": model, "mixed": mixed, "batch": batch, "steps": steps, "s_per_step": median,
            "steps_per_s": 1.0 / median, "phrases_per_s": batch / median}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, action="append", help="MIDI folder(s) to parse (default: built-in songs)")
    parser.add_argument("--workers", type=int, default=0, help="parsing processes (0: one per core)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads for training")
    parser.add_argument("--steps", type=int, default=5, help="timed training steps")
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--model", choices=["paper", "small"], action="append", help="networks (default: both)")
    parser.add_argument("--mixed", choices=["none", "partial"], default="none")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    with tempfile.TemporaryDirectory() as tmp:
        if args.data:
            files = [f for folder in args.data for f in find_inputs(folder, SUFFIXES)]
        else:
            files = write_style(Path(tmp) / "c", "classical", 80) + write_style(Path(tmp) / "p", "pop", 80)
        prep = bench_preprocessing(files, args.workers)
    train = [bench_training(m, args.batch, args.steps, args.mixed) for m in (args.model or ["small", "paper"])]
    result = {"device": "cpu", "torch_threads": args.threads, "preprocessing": prep, "training": train}

    print(f"preprocessing: {prep['files']} files -> {prep['phrases']} phrases, {prep['workers'] or 'all'} workers: "
          f"{prep['phrases_per_s_cold']:.0f} phrases/s cold ({prep['files_per_s_cold']:.1f} files/s), "
          f"{prep['phrases_per_s_warm']:.0f} phrases/s from cache")
    print(f"{'model':<8}{'mixed':<9}{'batch':>6}{'s/step':>9}{'steps/s':>9}{'phrases/s':>11}")
    for row in train:
        print(f"{row['model']:<8}{row['mixed']:<9}{row['batch']:>6}{row['s_per_step']:>9.3f}"
              f"{row['steps_per_s']:>9.3f}{row['phrases_per_s']:>11.1f}")
    text = json.dumps(result, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
