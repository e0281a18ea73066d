"""Picture of a join in a long recording converted in pieces: spectrogram and waveform around a cut.

    python bench/plot_join.py --model EXP --inputs FILE ... [--piece-seconds 15] [--out docs/join.png]

The inputs are put one after another (with 0.3 s pauses) into a recording longer than one piece, which
is converted with the model (a2b, fast F0); the figure shows the converted audio 1 s either side of
the first cut, with the cross-faded stretch marked.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import librosa
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import soundfile as sf  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_convert import input_files, long_recording  # noqa: E402

from cycleaudio.runner import get_task, load_bundle  # noqa: E402
from cycleaudio.tasks.voice import VoiceConvertOptions  # noqa: E402
from cycleaudio.tasks.voice.chunks import FADE_SECONDS, plan_file  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--inputs", type=Path, nargs="+", required=True)
    parser.add_argument("--piece-seconds", type=float, default=15.0)
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent.parent / "docs" / "join.png")
    args = parser.parse_args()
    bundle = load_bundle(args.model, "cpu")
    rate = bundle.recipe.features.sample_rate
    with tempfile.TemporaryDirectory() as tmp:
        source = long_recording(input_files(args.inputs), 2.5 * args.piece_seconds / 60, Path(tmp) / "long.wav", rate)
        target = Path(tmp) / "converted.wav"
        options = VoiceConvertOptions(piece_seconds=args.piece_seconds, f0_method="fast", progress=False)
        get_task("voice").convert(bundle, "a2b", source, target, options)
        cut = plan_file(source, rate, args.piece_seconds)[1].cut_before
        wave, _ = sf.read(str(target))
    start, stop = cut - rate, cut + rate
    segment = wave[start:stop]
    spec = librosa.amplitude_to_db(np.abs(librosa.stft(segment, n_fft=512, hop_length=64)), ref=np.max)
    seconds = (np.arange(len(segment)) + start - cut) / rate
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(9, 6), sharex=True, gridspec_kw={"height_ratios": [2, 1]})
    top.imshow(spec, origin="lower", aspect="auto", cmap="magma", vmin=-80, vmax=0,
               extent=(seconds[0], seconds[-1], 0, rate / 2000))
    top.set_ylabel("kHz")
    top.set_title(f"Converted long recording around the join at {cut / rate:.2f} s (pieces of at most {args.piece_seconds:g} s)")
    bottom.plot(seconds, segment, lw=0.5, color="k")
    bottom.set_xlabel("seconds from the cut")
    bottom.set_ylabel("amplitude")
    for axis in (top, bottom):
        axis.axvspan(-FADE_SECONDS / 2, FADE_SECONDS / 2, color="c", alpha=0.3, label="cross-fade")
    bottom.legend(loc="upper right")
    fig.tight_layout()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.out, dpi=100)
    print(f"written: {args.out}")


if __name__ == "__main__":
    main()
