"""The CycleGAN objective over two domains A and B, for any tensor shape.

Generators ``g_ab`` (A->B) and ``g_ba`` (B->A); discriminators ``d_a`` and ``d_b``.  Optional parts,
each switched on by the recipe's ``loss`` section:

* cycle and identity losses as L1 (``cycle_loss: l1``) or as binary cross-entropy (``bce``) for
  outputs that are probabilities of binary targets such as piano rolls, where L1 is smallest for
  near-silence; ``bce_on_weight`` > 1 weighs the rare "on" cells up;
* identity loss (``lambda_identity``), dropped after ``identity_off_step`` steps (CycleGAN-VC);
* two-step adversarial loss (``two_step``, CycleGAN-VC2): discriminators ``d2_a``/``d2_b`` judge
  cycle-reconstructed samples, and the generators are trained against them too;
* mixed discriminators (``mixed``, Brunner et al. 2018): ``dm_a``/``dm_b`` whose real set is A u B (or
  A u B u C); their generator-side term is included unless ``mixed_generator_term`` is false;
* half-normal noise on every discriminator input (``d_input_noise``), the same draw for real and fake;
* a history pool of fakes (``pool_size``);
* differentiable shifts and cut-outs of every discriminator input (``d_augment``, see ``engine.augment``);
* filling-in-frames masks (``mask_max_frames``, MaskCycleGAN-VC): a random run of frames is hidden
  from the generator in the forward pass, the cycle pass sees all frames.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from ..registry import DISCRIMINATORS, GENERATORS
from .augment import augment
from .distributed import DistributedContext
from .losses import ADVERSARIAL_LOSSES, gradient_penalty
from .pool import HistoryPool
from .settings import LossConfig, ModelConfig

#: probabilities are clamped to [eps, 1 - eps] before the log of the cross-entropy
BCE_EPS = 1e-6


@dataclass
class Fakes:
    """Generator outputs of one step, detached, for the discriminator update."""

    fake_a: torch.Tensor
    fake_b: torch.Tensor
    cycle_a: torch.Tensor
    cycle_b: torch.Tensor


def reconstruction_loss(output: torch.Tensor, target: torch.Tensor, kind: str, on_weight: float = 1.0) -> torch.Tensor:
    """L1, or binary cross-entropy of probabilities ``output`` against ``target`` in [0, 1].

    The cross-entropy is computed in float32 outside autocast (its log needs the precision), with
    ``on_weight`` on the cells whose target is 1.
    """
    if kind == "l1":
        return F.l1_loss(output, target)
    with torch.autocast(output.device.type, enabled=False):
        target = target.float()
        weight = 1.0 + (on_weight - 1.0) * target if on_weight != 1.0 else None
        return F.binary_cross_entropy(output.float().clamp(BCE_EPS, 1.0 - BCE_EPS), target, weight=weight)


def build_generators(model: ModelConfig) -> tuple[nn.Module, nn.Module]:
    spec = model.generator
    return GENERATORS.build(spec.name, spec.args), GENERATORS.build(spec.name, spec.args)


class CycleGAN(nn.Module):
    """Holds the networks and computes the generator and discriminator losses of one step."""

    def __init__(self, model: ModelConfig, loss: LossConfig, seed: int = 0,
                 context: DistributedContext | None = None) -> None:
        super().__init__()
        self.cfg = loss
        self.context = context or DistributedContext()
        self.g_ab, self.g_ba = build_generators(model)
        spec = model.discriminator
        names = ["d_a", "d_b"]
        if loss.two_step:
            names += ["d2_a", "d2_b"]
        if loss.mixed != "none":
            names += ["dm_a", "dm_b"]
        self.discriminators = nn.ModuleDict({n: DISCRIMINATORS.build(spec.name, spec.args) for n in names})
        self.adversarial = ADVERSARIAL_LOSSES[loss.adversarial]()
        self.pool_a = HistoryPool(loss.pool_size, seed=seed + 1)
        self.pool_b = HistoryPool(loss.pool_size, seed=seed + 2)
        self.noise = torch.Generator().manual_seed(seed + 3)

    # ------------------------------------------------------------------ helpers
    def generators(self) -> list[nn.Module]:
        return [self.g_ab, self.g_ba]

    def _local(self, global_draw: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
        """This rank's slice of a draw made for the global batch, on ``like``'s device and dtype."""
        part = global_draw[self.context.local_slice(global_draw.shape[0])]
        return part.to(like.device, like.dtype, non_blocking=True)

    def _global_shape(self, x: torch.Tensor) -> tuple[int, ...]:
        return (x.shape[0] * self.context.world_size, *x.shape[1:])

    def _mask(self, x: torch.Tensor) -> torch.Tensor | None:
        """All-ones mask with one random run of up to ``mask_max_frames`` zeroed frames per sample."""
        if self.cfg.mask_max_frames <= 0:
            return None
        batch, frames = self._global_shape(x)[0], x.shape[-1]
        mask = torch.ones(batch, 1, frames)
        for i in range(batch):
            length = int(torch.randint(0, self.cfg.mask_max_frames + 1, (), generator=self.noise))
            start = int(torch.randint(0, max(frames - length, 0) + 1, (), generator=self.noise))
            mask[i, :, start:start + length] = 0
        return self._local(mask, x).expand_as(x)

    def _masked_forward(self, generator: nn.Module, x: torch.Tensor) -> torch.Tensor:
        """The generator's first pass; with filling-in-frames on it sees a mask (its ``forward(x, mask)``),
        otherwise just ``x``, so generators without a mask input need no mask argument."""
        mask = self._mask(x)
        return generator(x) if mask is None else generator(x, mask)

    def _noisy(self, *inputs: torch.Tensor) -> list[torch.Tensor]:
        """Add one half-normal draw |N(0, sigma)| to every input (same tensor for real and fake)."""
        sigma = self.cfg.d_input_noise
        if sigma <= 0:
            return list(inputs)
        noise = torch.randn(self._global_shape(inputs[0]), generator=self.noise).abs_().mul_(sigma)
        noise = self._local(noise, inputs[0])
        return [x + noise for x in inputs]

    def _augmented(self, x: torch.Tensor) -> torch.Tensor:
        """``x`` shifted and cut as ``d_augment`` says, each sample with its own draw (made for the global
        batch, so every rank of a distributed run sees its slice of one draw)."""
        if not self.cfg.d_augment:
            return x
        batch = self._global_shape(x)[0]

        def draw(high: int, count: int) -> torch.Tensor:
            values = torch.randint(0, high, (batch, count), generator=self.noise)
            return values[self.context.local_slice(batch)]

        return augment(x, self.cfg.d_augment, draw)

    def _pooled(self, pool: HistoryPool, fakes: torch.Tensor) -> torch.Tensor:
        """The pool works on the global batch (identically on every rank); each rank keeps its slice."""
        if pool.size == 0:
            return fakes
        everyone = self.context.gather(fakes)
        return self._local(pool.query(everyone), fakes)

    def _reconstruction(self, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return reconstruction_loss(output, target, self.cfg.cycle_loss, self.cfg.bce_on_weight)

    def _judge(self, name: str, x: torch.Tensor) -> torch.Tensor:
        (noisy,) = self._noisy(x)
        return self.discriminators[name](self._augmented(noisy))

    # ------------------------------------------------------------------ generator side
    def generator_loss(self, real_a: torch.Tensor, real_b: torch.Tensor, step: int
                       ) -> tuple[torch.Tensor, dict[str, torch.Tensor], Fakes]:
        cfg, adv = self.cfg, self.adversarial
        fake_b = self._masked_forward(self.g_ab, real_a)
        fake_a = self._masked_forward(self.g_ba, real_b)
        cycle_a = self.g_ba(fake_b)
        cycle_b = self.g_ab(fake_a)

        logs: dict[str, torch.Tensor] = {}
        logs["g_adv"] = adv.generator(self._judge("d_b", fake_b)) + adv.generator(self._judge("d_a", fake_a))
        logs["cycle"] = self._reconstruction(cycle_a, real_a) + self._reconstruction(cycle_b, real_b)
        total = logs["g_adv"] + cfg.lambda_cycle * logs["cycle"]

        identity_on = cfg.identity_off_step is None or step < cfg.identity_off_step
        if cfg.lambda_identity > 0 and identity_on:
            same_a, same_b = self.g_ba(real_a), self.g_ab(real_b)
            logs["identity"] = self._reconstruction(same_a, real_a) + self._reconstruction(same_b, real_b)
            total = total + cfg.lambda_identity * logs["identity"]
        if cfg.two_step:
            logs["g_adv2"] = adv.generator(self._judge("d2_a", cycle_a)) + adv.generator(self._judge("d2_b", cycle_b))
            total = total + cfg.lambda_two_step * logs["g_adv2"]
        if cfg.mixed != "none" and cfg.mixed_generator_term:
            logs["g_mixed"] = adv.generator(self._judge("dm_a", fake_a)) + adv.generator(self._judge("dm_b", fake_b))
            total = total + cfg.lambda_mixed * logs["g_mixed"]
        logs["g_total"] = total
        fakes = Fakes(fake_a.detach(), fake_b.detach(), cycle_a.detach(), cycle_b.detach())
        return total, logs, fakes

    # ------------------------------------------------------------------ discriminator side
    def _d_term(self, name: str, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
        real, fake = (self._augmented(x) for x in self._noisy(real, fake))
        critic = self.discriminators[name]
        loss = self.adversarial.discriminator(critic(real), critic(fake))
        if getattr(self.adversarial, "needs_gradient_penalty", False):
            shape = (self._global_shape(real)[0],) + (1,) * (real.dim() - 1)
            alpha = self._local(torch.rand(shape, generator=self.noise), real)
            loss = loss + self.cfg.gp_weight * gradient_penalty(critic, real, fake, alpha)
        return loss

    def discriminator_loss(self, real_a: torch.Tensor, real_b: torch.Tensor, fakes: Fakes,
                           mixed_real_a: torch.Tensor | None = None, mixed_real_b: torch.Tensor | None = None
                           ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """``mixed_real_*``: samples of the mixed discriminators' real set (A u B [u C]), when enabled."""
        cfg = self.cfg
        pooled_a = self._pooled(self.pool_a, fakes.fake_a)
        pooled_b = self._pooled(self.pool_b, fakes.fake_b)
        logs = {"d_adv": self._d_term("d_a", real_a, pooled_a) + self._d_term("d_b", real_b, pooled_b)}
        total = logs["d_adv"]
        if cfg.two_step:
            logs["d_adv2"] = self._d_term("d2_a", real_a, fakes.cycle_a) + self._d_term("d2_b", real_b, fakes.cycle_b)
            total = total + cfg.lambda_two_step * logs["d_adv2"]
        if cfg.mixed != "none":
            if mixed_real_a is None or mixed_real_b is None:
                raise ValueError("mixed discriminators need samples of their mixed real set")
            logs["d_mixed"] = self._d_term("dm_a", mixed_real_a, pooled_a) + self._d_term("dm_b", mixed_real_b, pooled_b)
            total = total + cfg.lambda_mixed * logs["d_mixed"]
        logs["d_total"] = total
        return total, logs

    # ------------------------------------------------------------------ state beyond parameters
    def extra_state(self) -> dict:
        return {"pool_a": self.pool_a.state_dict(), "pool_b": self.pool_b.state_dict(), "noise": self.noise.get_state()}

    def load_extra_state(self, state: dict, device: torch.device | str) -> None:
        self.pool_a.load_state_dict(state["pool_a"], device)
        self.pool_b.load_state_dict(state["pool_b"], device)
        self.noise.set_state(state["noise"])
