"""The CycleGAN training loop: one readable loop in plain PyTorch.

Each step draws a batch of crops from each domain, updates the generators against frozen
discriminators, then the discriminators on detached fakes.  Losses stay on the device between log
points, so the step itself never waits for the host.  The full training state (networks, optimisers,
schedules, grad scaler, step, random streams, history pools, recipe, statistics) goes into every
checkpoint, which makes ``--resume`` continue exactly where the run stopped.
"""

from __future__ import annotations

import math
import subprocess
from contextlib import nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import torch
import yaml

from .. import __version__
from ..config import to_dict
from ..errors import CycleAudioError
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from .checkpoint import load_checkpoint, save_training_checkpoint, step_checkpoints
from .cyclegan import CycleGAN
from .distributed import DistributedContext, init_distributed, shutdown_distributed
from .schedules import constant_then_linear

if TYPE_CHECKING:
    from ..tasks.base import Task, TrainingData


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


def _adam(params: Any, lr: float, betas: tuple[float, float], fused: bool, device: torch.device) -> torch.optim.Adam:
    """Adam; ``fused`` picks the single-kernel implementation where the device has one."""
    if fused and device.type == "cuda":
        return torch.optim.Adam(params, lr=lr, betas=betas, fused=True)
    return torch.optim.Adam(params, lr=lr, betas=betas, foreach=fused or None)


class _Objective(nn.Module):
    """Routes one side's loss through DistributedDataParallel: registers only that side's networks (so
    DDP averages exactly their gradients) and calls the model's loss function."""

    def __init__(self, networks: list[nn.Module], loss: Any) -> None:
        super().__init__()
        self.networks = nn.ModuleList(networks)
        self.loss = loss

    def forward(self, *args: Any) -> Any:
        return self.loss(*args)


class CycleGANTrainer:
    """Owns the model, optimisers, schedules and random streams of one training run."""

    def __init__(self, recipe: Any, data: TrainingData, device: torch.device,
                 context: DistributedContext | None = None) -> None:
        self.recipe, self.data, self.device = recipe, data, device
        self.context = context or DistributedContext()
        train, optim = recipe.train, recipe.optim
        self.local = self.context.local_slice(train.batch_size)
        torch.manual_seed(recipe.seed)
        self.model = CycleGAN(recipe.model, recipe.loss, seed=recipe.seed, context=self.context).to(device)
        if train.channels_last:
            self.model.to(memory_format=torch.channels_last)
        d_params = self.model.discriminators.parameters()
        g_params = [p for g in self.model.generators() for p in g.parameters()]
        self.opt_g = _adam(g_params, optim.g_lr, optim.betas, optim.fused, device)
        self.opt_d = _adam(d_params, optim.d_lr, optim.betas, optim.fused, device)
        self.steps_per_epoch = math.ceil(max(len(data.domain_a), len(data.domain_b)) / train.batch_size)
        self.total_steps = train.steps if train.steps is not None else (train.epochs or 1) * self.steps_per_epoch
        unit = self.steps_per_epoch if optim.schedule.unit == "epoch" else 1
        self.sched_g = constant_then_linear(self.opt_g, optim.schedule.constant, optim.schedule.decay, unit)
        self.sched_d = constant_then_linear(self.opt_d, optim.schedule.constant, optim.schedule.decay, unit)
        self.scaler = torch.amp.GradScaler(device.type, enabled=train.precision == "fp16")
        self.autocast_dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(train.precision)
        self.data_rng = torch.Generator().manual_seed(recipe.seed)
        self.step = 0
        if train.compile:
            for module in [*self.model.generators(), *self.model.discriminators.values()]:
                module.compile()
        self.generator_objective: Any = self.model.generator_loss
        self.discriminator_objective: Any = self.model.discriminator_loss
        if self.context.enabled:
            ids = [device.index] if device.type == "cuda" else None
            self.generator_objective = DistributedDataParallel(
                _Objective(self.model.generators(), self.model.generator_loss), device_ids=ids)
            self.discriminator_objective = DistributedDataParallel(
                _Objective([self.model.discriminators], self.model.discriminator_loss), device_ids=ids)

    # ------------------------------------------------------------------ one step
    def _batch(self, source: Any) -> torch.Tensor:
        """This rank's slice of a global batch drawn from the shared random stream."""
        batch = source.sample(self.recipe.train.batch_size, self.data_rng)[self.local]
        if self.device.type == "cuda":
            batch = batch.pin_memory()
        batch = batch.to(self.device, non_blocking=True)
        if self.recipe.train.channels_last and batch.dim() == 4:
            batch = batch.contiguous(memory_format=torch.channels_last)
        return batch

    def _autocast(self) -> Any:
        if self.autocast_dtype is None:
            return nullcontext()
        return torch.autocast(self.device.type, dtype=self.autocast_dtype)

    def _update(self, loss: torch.Tensor, optimizer: torch.optim.Optimizer, params: Any) -> None:
        optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        clip = self.recipe.optim.grad_clip
        if clip is not None:
            self.scaler.unscale_(optimizer)
            torch.nn.utils.clip_grad_norm_(list(params), clip)
        self.scaler.step(optimizer)

    def train_step(self) -> dict[str, torch.Tensor]:
        """One generator update and one discriminator update; returns detached loss tensors."""
        model, data = self.model, self.data
        real_a, real_b = self._batch(data.domain_a), self._batch(data.domain_b)
        mixed_a = self._batch(data.mixed_a) if data.mixed_a is not None else None
        mixed_b = self._batch(data.mixed_b) if data.mixed_b is not None else None

        model.discriminators.requires_grad_(False)
        with self._autocast():
            g_loss, g_logs, fakes = self.generator_objective(real_a, real_b, self.step)
        self._update(g_loss, self.opt_g, (p for g in model.generators() for p in g.parameters()))

        model.discriminators.requires_grad_(True)
        with self._autocast():
            d_loss, d_logs = self.discriminator_objective(real_a, real_b, fakes, mixed_a, mixed_b)
        self._update(d_loss, self.opt_d, model.discriminators.parameters())

        self.scaler.update()
        self.sched_g.step()
        self.sched_d.step()
        self.step += 1
        return {k: v.detach() for k, v in {**g_logs, **d_logs}.items()}

    # ------------------------------------------------------------------ state
    def state_dict(self) -> dict[str, Any]:
        return {
            "format": "cycleaudio-checkpoint",
            "version": __version__,
            "step": self.step,
            "recipe": to_dict(self.recipe),
            "statistics": self.data.statistics,
            "generators": {"g_ab": self.model.g_ab.state_dict(), "g_ba": self.model.g_ba.state_dict()},
            "discriminators": self.model.discriminators.state_dict(),
            "optimizers": {"g": self.opt_g.state_dict(), "d": self.opt_d.state_dict()},
            "schedulers": {"g": self.sched_g.state_dict(), "d": self.sched_d.state_dict()},
            "scaler": self.scaler.state_dict(),
            "rng": {
                "data": self.data_rng.get_state(),
                "torch": torch.get_rng_state(),
                "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
            },
            "model_extra": self.model.extra_state(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.model.g_ab.load_state_dict(state["generators"]["g_ab"])
        self.model.g_ba.load_state_dict(state["generators"]["g_ba"])
        self.model.discriminators.load_state_dict(state["discriminators"])
        self.opt_g.load_state_dict(state["optimizers"]["g"])
        self.opt_d.load_state_dict(state["optimizers"]["d"])
        self.sched_g.load_state_dict(state["schedulers"]["g"])
        self.sched_d.load_state_dict(state["schedulers"]["d"])
        self.scaler.load_state_dict(state["scaler"])
        self.data_rng.set_state(state["rng"]["data"])
        torch.set_rng_state(state["rng"]["torch"])
        if state["rng"]["cuda"] and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(state["rng"]["cuda"])
        self.model.load_extra_state(state["model_extra"], self.device)
        self.step = int(state["step"])

    def learning_rates(self) -> dict[str, float]:
        return {"lr_g": self.opt_g.param_groups[0]["lr"], "lr_d": self.opt_d.param_groups[0]["lr"]}


def check_exp_dir(exp_dir: Path, resume: bool) -> None:
    """Refuse to overwrite a run's checkpoints unless resuming, and to resume a run that has none."""
    existing = step_checkpoints(exp_dir / "checkpoints")
    if existing and not resume:
        raise CycleAudioError(f"{exp_dir}: already holds checkpoints; pass --resume to continue or --out for a new folder")
    if resume and not (exp_dir / "checkpoints" / "latest.pt").is_file():
        raise CycleAudioError(f"{exp_dir}: nothing to resume (no checkpoints/latest.pt)")


def train_cyclegan(task: Task, recipe: Any, exp_dir: Path, resume: bool = False, progress: bool = True) -> Path:
    """Train (or resume) a CycleGAN for ``task``; returns the last checkpoint's path."""
    from ..bundle import ModelBundle, pick_device
    from .monitor import TrainingMonitor

    context, device_name = init_distributed(recipe.train.device)
    try:
        check_exp_dir(exp_dir, resume)
        exp_dir.mkdir(parents=True, exist_ok=True)
        device = pick_device(device_name)
        if not context.is_main:  # rank 0 extracts and caches features first; the others then read the cache
            context.barrier()
        data = task.prepare(recipe, exp_dir)
        if context.is_main:
            context.barrier()
        trainer = CycleGANTrainer(recipe, data, device, context)
        if resume:
            trainer.load_state_dict(load_checkpoint(exp_dir, map_location=device))
        if context.is_main:
            write_resolved_recipe(recipe, exp_dir)
        monitor = TrainingMonitor(exp_dir, trainer.total_steps, trainer.step, progress and context.is_main,
                                  enabled=context.is_main, reduce=context.mean)
        last = _run(task, recipe, exp_dir, trainer, monitor, ModelBundle)
        context.barrier()  # no rank tears the process group down while another still uses it
        return last
    finally:
        shutdown_distributed(context)


def _run(task: Task, recipe: Any, exp_dir: Path, trainer: CycleGANTrainer, monitor: Any, bundle_class: Any) -> Path:
    """The step loop with logging, checkpoints and samples (written by rank 0 only)."""
    cfg, device, data, main = recipe.train, trainer.device, trainer.data, trainer.context.is_main
    checkpoint_dir = exp_dir / "checkpoints"

    def checkpoint() -> Path:
        path = checkpoint_dir / f"step_{trainer.step:07d}.pt"
        if main:
            path = save_training_checkpoint(trainer.state_dict(), checkpoint_dir, trainer.step, cfg.keep_checkpoints)
        return path

    def samples() -> None:
        if not main:
            return
        model = trainer.model
        model.eval()
        with torch.no_grad():
            bundle = bundle_class(recipe, model.g_ab, model.g_ba, data.statistics, device)
            task.write_samples(recipe, bundle, trainer.step, exp_dir, monitor.writer)
        model.train()

    monitor.log_text(f"training {recipe.task} on {device} x {trainer.context.world_size} process(es) for "
                     f"{trainer.total_steps} steps (from step {trainer.step}), global batch {cfg.batch_size}, "
                     f"precision {cfg.precision}")
    return run_steps(trainer, trainer.total_steps, cfg, monitor, checkpoint, samples)


def run_steps(trainer: Any, total_steps: int, cfg: Any, monitor: Any, checkpoint: Callable[[], Path],
              samples: Callable[[], None]) -> Path:
    """The loop every trainer shares: step, log, checkpoint and sample on ``cfg``'s intervals; Ctrl-C
    writes a checkpoint first.  ``trainer`` needs ``step``, ``train_step()`` and ``learning_rates()``."""
    last = None
    try:
        while trainer.step < total_steps:
            monitor.accumulate(trainer.train_step())
            step = trainer.step
            if step % cfg.log_every == 0 or step == total_steps:
                monitor.flush(step, trainer.learning_rates())
            if step % cfg.checkpoint_every == 0 or step == total_steps:
                last = checkpoint()
            if cfg.sample_every > 0 and (step % cfg.sample_every == 0 or step == total_steps):
                samples()
    except KeyboardInterrupt:
        last = checkpoint()
        monitor.log_text(f"interrupted at step {trainer.step}; checkpoint written to {last}")
        monitor.close()
        raise CycleAudioError(f"interrupted at step {trainer.step}; resume with --resume (checkpoint {last})") from None
    monitor.close()
    return last if last is not None else checkpoint()
