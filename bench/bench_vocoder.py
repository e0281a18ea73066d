"""Vocoder benchmark: copy-synthesis quality (MCD) and CPU real-time factor.

    python bench/bench_vocoder.py --data HELD_OUT_WAVS [--vocoder griffin-lim] [--vocoder exp/vocoder] \
        [--sample-rate 16000 --n-fft 1024 --hop-length 256 --n-mels 80 --fmax 8000] [--out FILE]

Copy synthesis = recording -> log-mel -> vocoder, no conversion: it measures what the vocoder alone
loses.  MCD and F0 errors use the voice task's evaluation (metrics.py: WORLD coded envelope, c1-c35,
DTW), so the numbers sit on the same scale as conversion results.  The real-time factor is the
vocoder's time (mel analysis excluded; for ``world``, analysis + synthesis) divided by the audio's
duration, on this process's threads.
Mel settings come from the first trained vocoder given, or from the flags when only Griffin-Lim runs.
``--speed-recipe vocoder_female`` adds a speed-only row: the recipe's generator, untrained, timed on the
same mel frames (its upsampling must match the hop).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

import numpy as np
import soundfile
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import report  # noqa: E402

from cycleaudio.runner import find_recipe  # noqa: E402
from cycleaudio.runner import load_recipe  # noqa: E402
from cycleaudio.tasks.voice.audio import read_audio, write_audio  # noqa: E402
from cycleaudio.tasks.voice.features import audio_files  # noqa: E402
from cycleaudio.tasks.voice.mel import MelAnalyzer, MelSettings  # noqa: E402
from cycleaudio.tasks.voice.metrics import score_pair  # noqa: E402
from cycleaudio.tasks.voice.vocoder import GRIFFIN_LIM, NeuralVocoder, load_vocoder  # noqa: E402
from cycleaudio.tasks.voice.vocoder.neural import build_vocoder_generator  # noqa: E402
from cycleaudio.tasks.voice.world import WorldSettings, analyze, synthesize  # noqa: E402


def settings_from(args: argparse.Namespace) -> MelSettings:
    for spec in args.vocoder:
        if spec not in (GRIFFIN_LIM, "world"):
            return NeuralVocoder.load(spec).settings
    return MelSettings(args.sample_rate, args.n_fft, args.hop_length, args.n_mels, 0.0, args.fmax)


def world_copy(settings: MelSettings) -> Callable[[np.ndarray], tuple[np.ndarray, float]]:
    """WORLD analysis -> synthesis (the WORLD recipes' resynthesis), timed as a whole, for reference."""
    world = WorldSettings(sample_rate=settings.sample_rate)

    def copy(wave: np.ndarray) -> tuple[np.ndarray, float]:
        start = time.perf_counter()
        return synthesize(analyze(wave, world), world), time.perf_counter() - start

    return copy


def mel_copy(spec: str, settings: MelSettings, iterations: int) -> Callable[[np.ndarray], tuple[np.ndarray, float]]:
    """Log-mel analysis, then the vocoder (only the vocoder is timed)."""
    vocoder = load_vocoder(spec, settings, "cpu", iterations)
    analyzer = MelAnalyzer(settings)

    def copy(wave: np.ndarray) -> tuple[np.ndarray, float]:
        (mel,) = analyzer.batch([wave])
        vocoder(mel[:8])  # warm-up of lazily initialised kernels
        start = time.perf_counter()
        return vocoder(mel), time.perf_counter() - start

    return copy


def run(spec: str, settings: MelSettings, files: list[Path], out: Path, iterations: int) -> dict:
    copy = world_copy(settings) if spec == "world" else mel_copy(spec, settings, iterations)
    seconds, audio, scores = 0.0, 0.0, []
    for path in files:
        wave = read_audio(path, settings.sample_rate)
        synthesised, took = copy(wave)
        synthesised = synthesised[: len(wave)]
        seconds += took
        audio += len(wave) / settings.sample_rate
        target = out / spec.replace("/", "_") / f"{path.stem}.wav"
        write_audio(target, synthesised, settings.sample_rate)
        scores.append(score_pair(target, path, soundfile.info(str(path)).samplerate))
    return {"vocoder": spec, "files": len(files), "audio_s": audio,
            "mcd_db": float(np.mean([s.mcd_db for s in scores])),
            "log_f0_rmse_cents": float(np.nanmean([s.log_f0_rmse_cents for s in scores])),
            "real_time_factor": seconds / audio, "times_real_time": audio / seconds,
            "threads": torch.get_num_threads()}


def speed_only(recipe_name: str, settings: MelSettings, files: list[Path]) -> dict:
    """Real-time factor of a recipe's (untrained) generator: the size users would ship."""
    recipe = load_recipe(find_recipe(recipe_name))
    spec = {"name": recipe.model.generator.name, "args": dict(recipe.model.generator.args)}
    vocoder = NeuralVocoder(build_vocoder_generator(spec, settings), settings)
    analyzer = MelAnalyzer(settings)
    mels = [analyzer.batch([read_audio(path, settings.sample_rate)])[0] for path in files]
    vocoder(mels[0][:8])
    start = time.perf_counter()
    for mel in mels:
        vocoder(mel)
    seconds = time.perf_counter() - start
    audio = sum(len(m) for m in mels) * settings.hop_length / settings.sample_rate
    params = sum(p.numel() for p in vocoder.network.parameters())
    return {"vocoder": f"{recipe_name} (untrained, {params / 1e6:.2f} M params)", "files": len(files), "audio_s": audio,
            "real_time_factor": seconds / audio, "times_real_time": audio / seconds, "threads": torch.get_num_threads()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="folder of held-out recordings")
    parser.add_argument("--vocoder", action="append", default=None,
                        help="griffin-lim, world (WORLD analysis + synthesis, for reference) or a vocoder checkpoint/folder")
    parser.add_argument("--griffin-lim-iters", type=int, default=32)
    parser.add_argument("--sample-rate", type=int, default=22050)
    parser.add_argument("--n-fft", type=int, default=1024)
    parser.add_argument("--hop-length", type=int, default=256)
    parser.add_argument("--n-mels", type=int, default=80)
    parser.add_argument("--fmax", type=float, default=None)
    parser.add_argument("--speed-recipe", action="append", default=[], help="vocoder recipe timed untrained")
    parser.add_argument("--keep", type=Path, default=None, help="keep the synthesised files here")
    parser.add_argument("--out", type=Path, default=None, help="JSON result file")
    args = parser.parse_args()
    args.vocoder = args.vocoder or [GRIFFIN_LIM]
    settings = settings_from(args)
    files = audio_files(args.data)
    with tempfile.TemporaryDirectory() as tmp:
        out = args.keep or Path(tmp)
        rows = [run(spec, settings, files, out, args.griffin_lim_iters) for spec in args.vocoder]
    rows += [speed_only(name, settings, files) for name in args.speed_recipe]
    report("vocoder", rows, ["vocoder", "files", "audio_s", "mcd_db", "log_f0_rmse_cents", "real_time_factor",
                             "times_real_time", "threads"], args.out)
    print(f"mel settings: {settings.as_dict()}")


if __name__ == "__main__":
    main()
