"""Voice benchmarks: training speed, feature-extraction throughput, folder-conversion speed.

    python bench/bench_voice.py [--only train|features|convert] [--repeats 5] [--out FILE]

1. Training steps/s of the full-size CycleGAN-VC2 recipe (36 x 128 crops, two-step adversarial loss) at
   batch 1 and 8, side by side with a baseline built the way public implementations build the same
   network (separate value and gate convolutions, stock InstanceNorm): same widths, same step.
2. Feature extraction (harvest WORLD analysis) in times real time: serial vs. all cores.
3. Folder conversion of 20 built-in utterances (harvest): serial vs. the worker pool.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import median_seconds, report  # noqa: E402
from train_throughput import measure_in_fresh_process  # noqa: E402

from cycleaudio.runner import load_recipe  # noqa: E402
from cycleaudio.engine import blocks  # noqa: E402

RECIPES = Path(__file__).resolve().parent.parent / "recipes"


class TwoConvGate(nn.Module):
    """Baseline GLU layer as public implementations write it: two convolutions, two norms."""

    def __init__(self, conv: nn.Module, norm: nn.Module) -> None:
        super().__init__()
        out = conv.out_channels // 2
        make = type(conv)
        kw = dict(kernel_size=conv.kernel_size, stride=conv.stride, padding=conv.padding)
        self.value, self.gate = make(conv.in_channels, out, **kw), make(conv.in_channels, out, **kw)
        self.norm_v = self._stock_norm(norm, out, conv)
        self.norm_g = self._stock_norm(norm, out, conv)

    @staticmethod
    def _stock_norm(norm: nn.Module, channels: int, conv: nn.Module) -> nn.Module:
        if isinstance(norm, nn.Identity):
            return nn.Identity()
        return (nn.InstanceNorm2d if isinstance(conv, nn.Conv2d) else nn.InstanceNorm1d)(channels, affine=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.norm_v(self.value(x)) * torch.sigmoid(self.norm_g(self.gate(x)))


def to_baseline(module: nn.Module) -> nn.Module:
    """Rebuild every gated conv as two convs and every GroupNorm-based instance norm as stock InstanceNorm."""
    for name, child in module.named_children():
        if isinstance(child, blocks.GatedConv):
            setattr(module, name, TwoConvGate(child.conv, child.norm))
        elif isinstance(child, nn.GroupNorm):
            setattr(module, name, _StockInstanceNorm(child.num_channels))
        else:
            to_baseline(child)
    return module


class _StockInstanceNorm(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.weight, self.bias = nn.Parameter(torch.ones(channels)), nn.Parameter(torch.zeros(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.instance_norm(x, weight=self.weight, bias=self.bias)


def _to_baseline_trainer(trainer: Any) -> None:
    to_baseline(trainer.model)
    trainer.model.to(trainer.device)
    g_params = [p for g in trainer.model.generators() for p in g.parameters()]
    trainer.opt_g = torch.optim.Adam(g_params, lr=2e-4, betas=(0.5, 0.999))
    trainer.opt_d = torch.optim.Adam(trainer.model.discriminators.parameters(), lr=1e-4, betas=(0.5, 0.999))
    trainer.generator_objective = trainer.model.generator_loss
    trainer.discriminator_objective = trainer.model.discriminator_loss


def bench_training(repeats: int) -> list[dict[str, Any]]:
    rows = []
    for batch in (1, 8):
        for variant, modify in (("cycleaudio", None), ("baseline", _to_baseline_trainer)):
            row = measure_in_fresh_process("vc_male2female", batch, "baseline", "auto", repeats, modify)
            rows.append({"bench": "train VC2 36x128", "variant": variant, **row})
            print(rows[-1], flush=True)
    return rows


def _builtin_files(count: int) -> list[Path]:
    from cycleaudio.tasks.voice.features import default_cache_dir
    from cycleaudio.tasks.voice.synthetic import DATASET_VERSION, write_builtin_voices

    root = write_builtin_voices(default_cache_dir() / DATASET_VERSION)
    files = sorted((root / "train" / "male").glob("*.wav")) + sorted((root / "train" / "female").glob("*.wav"))
    return files[:count]


def bench_features(count: int = 20) -> list[dict[str, Any]]:
    import soundfile as sf

    from cycleaudio.tasks.voice.features import extract_features, worker_count
    from cycleaudio.tasks.voice.world import WorldSettings

    files = _builtin_files(count)
    seconds_audio = sum(sf.info(str(f)).duration for f in files)
    rows = []
    for workers in (1, worker_count(0)):
        with tempfile.TemporaryDirectory() as cache:
            elapsed = median_seconds(lambda: extract_features(files, WorldSettings(), Path(cache) / "x", workers, progress=False),
                                     repeats=1, warmup=0)
        rows.append({"bench": "features harvest", "variant": f"{workers} worker(s)", "files": len(files),
                     "audio_s": seconds_audio, "wall_s": elapsed, "x_real_time": seconds_audio / elapsed})
    return rows


def bench_conversion(count: int = 20) -> list[dict[str, Any]]:
    from cycleaudio.runner import get_task, load_bundle, train
    from cycleaudio.tasks.voice import VoiceConvertOptions
    from cycleaudio.tasks.voice.features import worker_count

    files = _builtin_files(count)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        inputs = tmp / "in"
        inputs.mkdir()
        for f in files:
            (inputs / f"{f.parent.name}_{f.name}").symlink_to(f)
        recipe = load_recipe(RECIPES / "vc_male2female.yaml", ["train.steps=1", "train.sample_every=0"])
        task = get_task("voice")
        train(recipe, tmp / "exp", progress=False)  # full-size generator, untrained weights
        bundle = load_bundle(tmp / "exp", "auto")
        for workers in (1, worker_count(0)):
            out = tmp / f"out{workers}"
            result = task.convert(bundle, "a2b", inputs, out, VoiceConvertOptions(workers=workers, progress=False))
            m = result.metrics
            rows.append({"bench": "convert folder harvest", "variant": f"{workers} worker(s)", "files": len(result.written),
                         "audio_s": m["audio_seconds"], "wall_s": m["wall_seconds"], "x_real_time": m["times_real_time"]})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", choices=["train", "features", "convert"])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    rows: list[dict[str, Any]] = []
    if args.only in (None, "train"):
        rows += bench_training(args.repeats)
    if args.only in (None, "features"):
        rows += bench_features()
    if args.only in (None, "convert"):
        rows += bench_conversion()
    columns = ["bench", "variant", "batch", "device", "s_per_step", "steps_per_s", "samples_per_s", "peak_mb",
               "files", "audio_s", "wall_s", "x_real_time"]
    report("voice", rows, columns, args.out)


if __name__ == "__main__":
    main()
