"""The vocoder training loop: HiFi-GAN updates on random (mel, waveform) segments.

Each step updates the multi-period/multi-scale discriminator on real vs generated audio, then the
generator on mel L1 + adversarial + feature-matching losses.  Before ``loss.adversarial_start`` only
the mel loss trains the generator (a warm-up that gives short budgets a usable vocoder sooner).
Every checkpoint holds the whole training state (networks, optimisers, schedules, step, random
streams), so ``--resume`` continues exactly; it doubles as the inference file.
"""

from __future__ import annotations

from typing import Any

import torch
from torch.nn import functional as F

from ....version import __version__
from ....config import to_dict
from ....engine.checkpoint import capture_rng, restore_rng
from ....registry import DISCRIMINATORS
from ..mel import MelAnalyzer, MelSettings
from .data import WaveMelSegments
from .losses import discriminator_loss, feature_matching_loss, generator_adversarial_loss
from .neural import FORMAT, build_vocoder_generator


class VocoderTrainer:
    """Owns the networks, optimisers, schedules and random streams of one vocoder training run."""

    checkpoint_format = FORMAT

    def __init__(self, recipe: Any, settings: MelSettings, data: WaveMelSegments, device: torch.device) -> None:
        self.recipe, self.settings, self.data, self.device = recipe, settings, data, device
        torch.manual_seed(recipe.seed)
        self.spec = {"name": recipe.model.generator.name, "args": dict(recipe.model.generator.args)}
        self.generator = build_vocoder_generator(self.spec, settings).to(device)
        spec = recipe.model.discriminator
        self.discriminator = DISCRIMINATORS.build(spec.name, spec.args).to(device)
        self.analyzer = MelAnalyzer(settings).to(device)
        optim = recipe.optim
        self.opt_g = torch.optim.AdamW(self.generator.parameters(), optim.lr, optim.betas)
        self.opt_d = torch.optim.AdamW(self.discriminator.parameters(), optim.lr, optim.betas)
        self.sched_g = torch.optim.lr_scheduler.ExponentialLR(self.opt_g, optim.lr_gamma)
        self.sched_d = torch.optim.lr_scheduler.ExponentialLR(self.opt_d, optim.lr_gamma)
        self.data_rng = torch.Generator().manual_seed(recipe.seed)
        self.step, self.total_steps = 0, recipe.train.steps

    def log_mel(self, wave: torch.Tensor) -> torch.Tensor:
        half = self.settings.n_fft // 2
        return self.analyzer(F.pad(wave.unsqueeze(1), (half, half), mode="reflect").squeeze(1))

    def train_step(self) -> dict[str, torch.Tensor]:
        """One discriminator and one generator update; returns detached loss tensors."""
        loss_cfg = self.recipe.loss
        mel, wave = (t.to(self.device, non_blocking=True) for t in self.data.sample(self.recipe.train.batch_size, self.data_rng))
        fake = self.generator(mel)
        adversarial = self.step >= loss_cfg.adversarial_start
        logs: dict[str, torch.Tensor] = {}
        if adversarial:
            self.discriminator.requires_grad_(True)
            d_loss = discriminator_loss(self.discriminator(wave), self.discriminator(fake.detach()))
            self.opt_d.zero_grad(set_to_none=True)
            d_loss.backward()
            self.opt_d.step()
            logs["d_total"] = d_loss.detach()
        mel_loss = F.l1_loss(self.log_mel(fake), self.log_mel(wave))
        g_loss = loss_cfg.lambda_mel * mel_loss
        logs["mel"] = mel_loss.detach()
        if adversarial:
            self.discriminator.requires_grad_(False)
            with torch.no_grad():
                real = self.discriminator(wave)
            judged = self.discriminator(fake)
            adv, matching = generator_adversarial_loss(judged), feature_matching_loss(real, judged)
            g_loss = g_loss + adv + loss_cfg.lambda_feature * matching
            logs.update(g_adversarial=adv.detach(), feature_matching=matching.detach())
        self.opt_g.zero_grad(set_to_none=True)
        g_loss.backward()
        self.opt_g.step()
        logs["g_total"] = g_loss.detach()
        self.sched_g.step()
        if adversarial:  # the discriminator's schedule runs from its first update
            self.sched_d.step()
        self.step += 1
        return logs

    def state_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "version": __version__,
            "step": self.step,
            "recipe": to_dict(self.recipe),
            "mel": self.settings.as_dict(),
            "network": self.spec,
            "weights": self.generator.state_dict(),
            "discriminator": self.discriminator.state_dict(),
            "optimizers": {"g": self.opt_g.state_dict(), "d": self.opt_d.state_dict()},
            "schedulers": {"g": self.sched_g.state_dict(), "d": self.sched_d.state_dict()},
            "rng": capture_rng(self.data_rng),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.generator.load_state_dict(state["weights"])
        self.discriminator.load_state_dict(state["discriminator"])
        self.opt_g.load_state_dict(state["optimizers"]["g"])
        self.opt_d.load_state_dict(state["optimizers"]["d"])
        self.sched_g.load_state_dict(state["schedulers"]["g"])
        self.sched_d.load_state_dict(state["schedulers"]["d"])
        restore_rng(state["rng"], self.data_rng)
        self.step = int(state["step"])

    def learning_rates(self) -> dict[str, float]:
        return {"lr_g": self.opt_g.param_groups[0]["lr"], "lr_d": self.opt_d.param_groups[0]["lr"]}
