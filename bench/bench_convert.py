"""Conversion speed of WORLD models: stage by stage, end to end, long files, and what each F0 method costs.

    python bench/bench_convert.py [--inputs FILE_OR_DIR ...] [--model EXP] [--workers 1 2] [--repeats 3]
        [--pairs SOURCE_DIR REFERENCE_DIR] [--long-minutes 1 10] [--whole-max-minutes 1] [--out FILE]

1. Stages, one file at a time on one process: read, F0 (each method), envelope (cheaptrick + coding),
   aperiodicity (d4c), generator (with the F0 transform), synthesis, write; in times real time.
2. End to end: ``convert`` of the inputs for every F0 method and worker count; the serial harvest
   path runs first in the same process; median of ``--repeats``.
3. F0 of each method against harvest's on the same inputs: gross errors (more than 20% off) among the
   frames voiced in both, and the share of frames with the same voicing decision.
4. ``--pairs``: MCD of the conversions of SOURCE_DIR against REFERENCE_DIR (files paired by name),
   per F0 method.
5. ``--long-minutes``: one long file (the inputs repeated, with pauses) converted in a fresh process:
   wall time and peak RSS of the main process and of the largest worker, in pieces and, up to
   ``--whole-max-minutes``, as one whole-file pass (the behaviour before pieces).

Without ``--model`` a full-size ``vc_male2female`` model is trained for one step on the built-in
voices: untrained weights convert exactly as fast as trained ones.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import report  # noqa: E402

from cycleaudio.engine.bundle import ModelBundle  # noqa: E402
from cycleaudio.runner import get_task, load_bundle  # noqa: E402
from cycleaudio.tasks.voice import VoiceConvertOptions  # noqa: E402
from cycleaudio.tasks.voice.audio import AUDIO_SUFFIXES, read_audio, write_audio  # noqa: E402
from cycleaudio.tasks.voice.convert import convert_frames, world_settings  # noqa: E402
from cycleaudio.tasks.voice.world import F0_METHODS, WorldFrames, aperiodicity, envelope, estimate_f0, synthesize  # noqa: E402

RECIPES = Path(__file__).resolve().parent.parent / "recipes"
STAGES = ["read", *(f"f0 {m}" for m in F0_METHODS), "envelope", "aperiodicity", "generator", "synthesis", "write"]


def input_files(specs: list[Path]) -> list[Path]:
    files: list[Path] = []
    for spec in specs:
        files += [spec] if spec.is_file() else sorted(p for p in spec.rglob("*") if p.suffix.lower() in AUDIO_SUFFIXES)
    return files


def builtin_files(count: int = 20) -> list[Path]:
    from cycleaudio.tasks.voice.features import default_cache_dir
    from cycleaudio.tasks.voice.synthetic import DATASET_VERSION, write_builtin_voices

    root = write_builtin_voices(default_cache_dir() / DATASET_VERSION)
    files = sorted((root / "train" / "male").glob("*.wav")) + sorted((root / "train" / "female").glob("*.wav"))
    return files[:count]


def untrained_model(folder: Path) -> Path:
    from cycleaudio.runner import load_recipe, train

    recipe = load_recipe(RECIPES / "vc_male2female.yaml", ["train.steps=1", "train.sample_every=0"])
    train(recipe, folder, progress=False)
    return folder


def link_folder(files: list[Path], folder: Path) -> Path:
    """The inputs as one flat folder (names prefixed by their parent folder, so they cannot clash)."""
    folder.mkdir(parents=True, exist_ok=True)
    for f in files:
        (folder / f"{f.parent.name}_{f.name}").symlink_to(f.resolve())
    return folder


def f0_agreement(reference: np.ndarray, estimate: np.ndarray) -> tuple[float, float]:
    """(gross-error share among frames voiced in both, voicing-agreement share) of two F0 tracks."""
    both = (reference > 0) & (estimate > 0)
    gross = float(np.mean(np.abs(estimate[both] / reference[both] - 1) > 0.2)) if both.any() else 0.0
    return gross, float(np.mean((reference > 0) == (estimate > 0)))


def bench_stages(files: list[Path], bundle: ModelBundle, scratch: Path) -> tuple[list[dict], list[dict]]:
    """Per-stage times real time (serial) and each F0 method's agreement with harvest."""
    settings = world_settings(bundle.recipe)
    seconds: dict[str, float] = defaultdict(float)
    tracks: dict[str, list[np.ndarray]] = defaultdict(list)
    audio = 0.0

    def timed(stage: str, fn: Any, *args: Any) -> Any:
        start = time.perf_counter()
        out = fn(*args)
        seconds[stage] += time.perf_counter() - start
        return out

    for path in files:
        wave = timed("read", read_audio, path, settings.sample_rate)
        audio += len(wave) / settings.sample_rate
        for method in F0_METHODS:
            f0, times = timed(f"f0 {method}", estimate_f0, wave, replace(settings, f0_method=method))
            tracks[method].append(f0)
        f0, times = estimate_f0(wave, settings)  # the recipe's method drives the remaining stages
        env = timed("envelope", envelope, wave, f0, times, settings)
        ap = timed("aperiodicity", aperiodicity, wave, f0, times, settings)
        converted = timed("generator", convert_frames, bundle, "a2b", WorldFrames(f0, env, ap))
        out = timed("synthesis", synthesize, converted, settings)
        timed("write", write_audio, scratch / "stage.wav", out, settings.sample_rate)
    stage_rows = [{"bench": "stage (1 process)", "variant": s, "audio_s": audio, "wall_s": seconds[s],
                   "x_real_time": audio / max(seconds[s], 1e-9)} for s in STAGES]
    reference = np.concatenate(tracks["harvest"])
    quality = []
    for method in F0_METHODS:
        gross, voicing = f0_agreement(reference, np.concatenate(tracks[method]))
        quality.append({"bench": "F0 vs harvest", "variant": method, "gross_error_pct": 100 * gross,
                        "voicing_agreement_pct": 100 * voicing})
    return stage_rows, quality


def cpu_seconds() -> float:
    """CPU time of this process and its finished children (the worker pools): a cost that, unlike
    wall time, does not swell when other jobs share the machine."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def bench_end_to_end(inputs: Path, bundle: ModelBundle, scratch: Path, workers: list[int], repeats: int) -> list[dict]:
    """Folder conversion per F0 method and worker count, the serial harvest path first.  The
    configurations take turns within every repeat, so load from other jobs falls on all of them."""
    task = get_task("voice")
    configs = [("harvest", 1)] + [(m, w) for m in F0_METHODS for w in workers if (m, w) != ("harvest", 1)]
    walls: dict[tuple[str, int], list[float]] = defaultdict(list)
    cpus: dict[tuple[str, int], list[float]] = defaultdict(list)
    results: dict[tuple[str, int], Any] = {}
    for _ in range(repeats):
        for method, count in configs:
            cpu = cpu_seconds()
            result = task.convert(bundle, "a2b", inputs, scratch / f"{method}{count}",
                                  VoiceConvertOptions(workers=count, f0_method=method, progress=False, overwrite=True))
            cpus[method, count].append(cpu_seconds() - cpu)
            walls[method, count].append(result.metrics["wall_seconds"])
            results[method, count] = result
    rows = []
    for method, count in configs:
        audio, wall = results[method, count].metrics["audio_seconds"], statistics.median(walls[method, count])
        rows.append({"bench": "convert folder", "variant": f"{method}, {count} worker(s)",
                     "files": len(results[method, count].written), "audio_s": audio, "wall_s": wall,
                     "x_real_time": audio / wall, "walls_s": walls[method, count],
                     "cpu_s": statistics.median(cpus[method, count]), "repeats": repeats})
        print(rows[-1], flush=True)
    return rows


def bench_mcd(source: Path, reference: Path, bundle: ModelBundle, scratch: Path) -> list[dict]:
    from cycleaudio.tasks.voice.metrics import evaluate_voice

    task = get_task("voice")
    rows = []
    for method in F0_METHODS:
        out = scratch / f"mcd_{method}"
        task.convert(bundle, "a2b", source, out, VoiceConvertOptions(f0_method=method, progress=False, overwrite=True))
        scores = evaluate_voice(out, reference, None)["converted"]
        rows.append({"bench": "MCD vs reference", "variant": method, "files": len(list(out.glob("*.wav"))),
                     "mcd_db": scores["mcd_db"]})
    return rows


def long_recording(files: list[Path], minutes: float, path: Path, sample_rate: int) -> Path:
    """The inputs one after another, 0.3 s apart, repeated until ``minutes`` long; written block by block."""
    import soundfile as sf

    waves = [read_audio(f, sample_rate) for f in files]
    pause = np.zeros(int(0.3 * sample_rate))
    with sf.SoundFile(str(path), "w", sample_rate, 1, subtype="PCM_16") as out:
        written = 0
        while written < minutes * 60 * sample_rate:
            for wave in waves:
                out.write(np.concatenate([wave, pause]) * 0.9)
                written += len(wave) + len(pause)
    return path


def measure_long(model: Path, source: Path, piece_seconds: float) -> dict[str, Any]:
    """Run one conversion in a fresh process (so peak RSS is this conversion's alone)."""
    script = (
        "import json, resource, sys\n"
        "from pathlib import Path\n"
        "from cycleaudio.runner import get_task, load_bundle\n"
        "from cycleaudio.tasks.voice import VoiceConvertOptions\n"
        "model, source, target, piece = sys.argv[1:5]\n"
        "bundle = load_bundle(model, 'cpu')\n"
        "r = get_task('voice').convert(bundle, 'a2b', Path(source), Path(target),\n"
        "    VoiceConvertOptions(piece_seconds=float(piece), progress=False, overwrite=True, f0_method='fast'))\n"
        "print(json.dumps({**r.metrics, 'main_mb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,\n"
        "    'worker_mb': resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 'ok': r.ok}))\n"
    )
    target = source.with_name(source.stem + "_out.wav")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(__file__).resolve().parent.parent), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-c", script, str(model), str(source), str(target), str(piece_seconds)],
                          capture_output=True, text=True, env=env)
    if done.returncode:
        return {"error": (done.stderr.strip().splitlines() or ["failed"])[-1]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def bench_long(files: list[Path], model: Path, scratch: Path, minutes: list[float], whole_max: float,
               sample_rate: int) -> list[dict]:
    rows = []
    for length in minutes:
        source = long_recording(files, length, scratch / f"long_{length:g}min.wav", sample_rate)
        variants = [("pieces", 0.0)] + ([("whole file", 1e9)] if length <= whole_max else [])
        for name, piece in variants:
            m = measure_long(model, source, piece)
            rows.append({"bench": f"long file {length:g} min", "variant": f"{name}, fast F0", "audio_s": m.get("audio_seconds"),
                         "wall_s": m.get("wall_seconds"), "x_real_time": m.get("times_real_time"),
                         "main_peak_mb": m.get("main_mb"), "worker_peak_mb": m.get("worker_mb"), "error": m.get("error")})
            print(rows[-1], flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--inputs", type=Path, nargs="*", help="Files or folders (default: 20 built-in utterances).")
    parser.add_argument("--model", type=Path, help="Experiment folder or checkpoint (default: untrained full-size VC2).")
    parser.add_argument("--workers", type=int, nargs="*", default=[1, len(os.sched_getaffinity(0))])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--pairs", type=Path, nargs=2, metavar=("SOURCE_DIR", "REFERENCE_DIR"))
    parser.add_argument("--long-minutes", type=float, nargs="*", default=[])
    parser.add_argument("--whole-max-minutes", type=float, default=1.0)
    parser.add_argument("--skip", nargs="*", default=[], choices=["stages", "end-to-end"])
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    files = input_files(args.inputs) if args.inputs else builtin_files()
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        model = args.model or untrained_model(scratch / "exp")
        bundle = load_bundle(model, "cpu")
        if "stages" not in args.skip:
            stage_rows, quality = bench_stages(files, bundle, scratch)
            rows += stage_rows + quality
            print(*stage_rows, *quality, sep="\n", flush=True)
        if "end-to-end" not in args.skip:
            rows += bench_end_to_end(link_folder(files, scratch / "in"), bundle, scratch, args.workers, args.repeats)
        if args.pairs:
            rows += bench_mcd(*args.pairs, bundle, scratch)
        if args.long_minutes:
            rows += bench_long(files, model, scratch, args.long_minutes, args.whole_max_minutes,
                               bundle.recipe.features.sample_rate)
    columns = ["bench", "variant", "files", "audio_s", "wall_s", "x_real_time", "cpu_s", "gross_error_pct",
               "voicing_agreement_pct", "mcd_db", "main_peak_mb", "worker_peak_mb", "error"]
    report("convert", rows, columns, args.out)


if __name__ == "__main__":
    main()
