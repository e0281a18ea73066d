"""Binary domain classifiers (real A vs real B) and the transfer strength they measure.

Tasks whose output cannot be compared with a reference file (music genre, image style) judge a
transfer with a classifier trained on real samples of both domains (Brunner et al. 2018).  This module
knows tensors only; the task supplies the samples and registers the network in
:data:`cycleaudio.registry.CLASSIFIERS`.

API (stable; the music and image tasks both use it):

``ClassifierTrainer(network, train_a, train_b, test_a, test_b, settings)``
    Trains ``network`` (a ``ComponentConfig``-like object or mapping with ``name`` and ``args``) on two
    :class:`~cycleaudio.engine.data.SampleSource` (label 1 = domain A, 0 = domain B) with Adam and
    balanced batches; ``test_a``/``test_b`` are held-out tensors ``(N, ...)`` (or lists of equal-shape
    tensors).  The runner drives it like every trainer; ``measured()`` returns the
    :class:`DomainClassifier` with its balanced held-out accuracy.  ``train_classifier(...)`` does the
    same in memory, for scores computed on the fly.

``DomainClassifier``
    ``prob_a(x)`` -> P_A for a batch (a 1-D tensor, no gradient, evaluated in chunks);
    ``accuracy_on(test_a, test_b)`` -> (balanced accuracy, accuracy on A, on B); ``save(path, recipe=None)`` writes an atomic
    checkpoint loadable with ``torch.load(weights_only=True)``: ``{"format": "cycleaudio-classifier",
    "version", "network": {"name", "args"}, "weights", "accuracy", "accuracy_a", "accuracy_b",
    "recipe", "step"}``; ``DomainClassifier.load(path, device)`` reads it back (a folder means its
    ``classifier.pt``; ``.recipe`` is the stored recipe mapping, ``{}`` if none); anything else
    is a one-line :class:`~cycleaudio.errors.CycleAudioError`.

``transfer_strength(p_a_real_a, p_a_fake_b, p_a_cycle_a, p_b_real_b, p_b_fake_a, p_b_cycle_b)``
    The paper's S_A->B, S_B->A and S_tot from mean probabilities (floats or tensors averaged here):
    S_A->B = 1/2 [P_A(x_A) - P_A(x^_B) + P_A(x~_A) - P_A(x^_B)], with x^_B the transfer of x_A and
    x~_A its cycle back; S_B->A likewise with P_B = 1 - P_A; S_tot = (S_A->B + S_B->A) / 2.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

import torch
from torch import nn
from torch.nn import functional as F
from ..progress import tqdm

from ..errors import CycleAudioError
from ..registry import CLASSIFIERS
from ..version import __version__
from .checkpoint import capture_rng, read_checkpoint, restore_rng, write_atomically
from .data import SampleSource
from .settings import check_loop_settings, check_rate

FORMAT = "cycleaudio-classifier"
TRAINING_FORMAT = "cycleaudio-classifier-training"  # the runner's step checkpoints of a classifier training
CHECKPOINT_NAME = "classifier.pt"

Samples = torch.Tensor | Sequence[torch.Tensor]


@dataclass
class ClassifierSettings:
    """How a domain classifier is trained (a task's classifier recipe maps onto this)."""

    steps: int = 2000
    batch_size: int = 16
    lr: float = 2e-4
    betas: tuple[float, float] = (0.5, 0.999)
    weight_decay: float = 0.0
    seed: int = 0
    device: str = "cpu"
    log_every: int = 100


@dataclass
class ClassifierTrain:
    """The ``train`` section of a classifier recipe (music genre, image domain); tasks subclass it to
    change defaults or add fields."""

    steps: int = 2000
    batch_size: int = 16
    lr: float = 2e-4
    weight_decay: float = 0.0
    log_every: int = 100
    sample_every: int = 500  # held-out accuracy to TensorBoard
    checkpoint_every: int = 1000
    keep_checkpoints: int = 2
    device: str = "auto"
    out_dir: str = "exp/classifier"

    def validate(self) -> None:
        check_loop_settings(self)
        if self.batch_size < 2:
            raise ValueError("batch_size must be >= 2 (half A, half B)")
        check_rate("lr", self.lr)
        check_rate("weight_decay", self.weight_decay)

    def settings(self, seed: int, device: torch.device | str) -> ClassifierSettings:
        return ClassifierSettings(steps=self.steps, batch_size=self.batch_size, lr=self.lr,
                                  weight_decay=self.weight_decay, seed=seed, device=str(device),
                                  log_every=self.log_every)


def _network_spec(network: Any) -> dict[str, Any]:
    if isinstance(network, Mapping):
        return {"name": str(network["name"]), "args": dict(network.get("args") or {})}
    return {"name": str(network.name), "args": dict(network.args or {})}


def _stack(samples: Samples) -> torch.Tensor:
    if isinstance(samples, torch.Tensor):
        return samples
    if not samples:
        raise CycleAudioError("no held-out samples to measure classifier accuracy on")
    return torch.stack(list(samples))


class DomainClassifier:
    """A trained network that outputs one logit per sample; sigmoid(logit) = P(domain A)."""

    def __init__(self, network: Any, module: nn.Module, device: torch.device | str = "cpu",
                 accuracy: float = float("nan"), accuracy_a: float = float("nan"),
                 accuracy_b: float = float("nan"), step: int = 0) -> None:
        self.spec = _network_spec(network)
        self.device = torch.device(device)
        self.module = module.to(self.device).eval()
        self.accuracy, self.accuracy_a, self.accuracy_b = accuracy, accuracy_a, accuracy_b
        self.step = step
        self.recipe: dict[str, Any] = {}

    @classmethod
    def build(cls, network: Any, device: torch.device | str = "cpu") -> "DomainClassifier":
        spec = _network_spec(network)
        return cls(spec, CLASSIFIERS.build(spec["name"], spec["args"]), device)

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        return self.module(x.to(self.device)).reshape(x.shape[0])

    @torch.no_grad()
    def prob_a(self, x: Samples, chunk: int = 256) -> torch.Tensor:
        """P_A of every sample (1-D tensor on the CPU); evaluated in chunks to bound memory."""
        x = _stack(x)
        self.module.eval()
        parts = [torch.sigmoid(self.logits(x[i:i + chunk])).float().cpu() for i in range(0, x.shape[0], chunk)]
        return torch.cat(parts) if parts else torch.zeros(0)

    def accuracy_on(self, test_a: Samples, test_b: Samples) -> tuple[float, float, float]:
        """(balanced accuracy, accuracy on A, accuracy on B), decision threshold 0.5."""
        acc_a = float((self.prob_a(test_a) >= 0.5).float().mean())
        acc_b = float((self.prob_a(test_b) < 0.5).float().mean())
        return (acc_a + acc_b) / 2, acc_a, acc_b

    # ------------------------------------------------------------------ files
    def save(self, path: Path, recipe: dict[str, Any] | None = None) -> Path:
        """Write the checkpoint atomically; ``recipe`` is the resolved recipe mapping, if any."""
        state = {
            "format": FORMAT,
            "version": __version__,
            "network": self.spec,
            "weights": {k: v.detach().cpu() for k, v in self.module.state_dict().items()},
            "accuracy": float(self.accuracy),
            "accuracy_a": float(self.accuracy_a),
            "accuracy_b": float(self.accuracy_b),
            "step": int(self.step),
            "recipe": recipe or {},
        }
        self.recipe = state["recipe"]
        write_atomically(state, Path(path))
        return Path(path)

    @classmethod
    def load(cls, path: Path | str, device: torch.device | str = "cpu") -> "DomainClassifier":
        path, state = read_checkpoint(path, [FORMAT], "cycleaudio classifier checkpoint", run_files=[CHECKPOINT_NAME])
        classifier = cls.build(state["network"], device)
        try:
            classifier.module.load_state_dict(state["weights"])
        except RuntimeError as exc:
            raise CycleAudioError(f"{path}: weights do not match network {state['network']['name']!r} "
                                  f"({str(exc).splitlines()[0]})") from None
        classifier.module.eval()
        classifier.accuracy = state["accuracy"]
        classifier.accuracy_a, classifier.accuracy_b = state["accuracy_a"], state["accuracy_b"]
        classifier.step = state["step"]
        classifier.recipe = state.get("recipe") or {}
        return classifier


class ClassifierTrainer:
    """Trains a domain classifier on balanced batches (half A, half B); the shared step loop drives it.

    Its checkpoints hold the whole training state (network, optimiser, step, random streams), so a
    classifier training resumes exactly like any other.
    """

    checkpoint_format = TRAINING_FORMAT

    def __init__(self, network: Any, train_a: SampleSource, train_b: SampleSource, test_a: Samples,
                 test_b: Samples, settings: ClassifierSettings) -> None:
        torch.manual_seed(settings.seed)
        self.settings = settings
        self.classifier = DomainClassifier.build(network, settings.device)
        self.module = self.classifier.module.train()
        self.optimizer = torch.optim.Adam(self.module.parameters(), lr=settings.lr, betas=settings.betas,
                                          weight_decay=settings.weight_decay)
        self.data_rng = torch.Generator().manual_seed(settings.seed)
        self.train_a, self.train_b, self.test_a, self.test_b = train_a, train_b, test_a, test_b
        half = max(settings.batch_size // 2, 1)
        self.half = half
        self.labels = torch.cat([torch.ones(half), torch.zeros(half)]).to(self.classifier.device)
        self.step, self.total_steps = 0, settings.steps

    def train_step(self) -> dict[str, torch.Tensor]:
        self.module.train()
        batch = torch.cat([self.train_a.sample(self.half, self.data_rng), self.train_b.sample(self.half, self.data_rng)])
        loss = F.binary_cross_entropy_with_logits(self.classifier.logits(batch), self.labels)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        self.step += 1
        return {"loss": loss.detach()}

    def learning_rates(self) -> dict[str, float]:
        return {"lr": self.optimizer.param_groups[0]["lr"]}

    def measured(self) -> DomainClassifier:
        """The classifier with its held-out accuracy measured now."""
        accuracy = self.classifier.accuracy_on(self.test_a, self.test_b)
        self.classifier.accuracy, self.classifier.accuracy_a, self.classifier.accuracy_b = accuracy
        self.classifier.step = self.step
        return self.classifier

    def log_accuracy(self, writer: Any) -> None:
        """Held-out accuracy to TensorBoard (the runner calls this at sample points)."""
        accuracy = self.measured().accuracy
        if writer is not None:
            writer.add_scalar("classifier/test_accuracy", accuracy, self.step)

    def state_dict(self) -> dict[str, Any]:
        return {"format": TRAINING_FORMAT, "version": __version__, "step": self.step,
                "network": self.classifier.spec, "weights": self.module.state_dict(),
                "optimizer": self.optimizer.state_dict(), "rng": capture_rng(self.data_rng)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.module.load_state_dict(state["weights"])
        self.optimizer.load_state_dict(state["optimizer"])
        restore_rng(state["rng"], self.data_rng)
        self.step = int(state["step"])


def train_classifier(network: Any, train_a: SampleSource, train_b: SampleSource, test_a: Samples,
                     test_b: Samples, settings: ClassifierSettings, progress: bool = True) -> DomainClassifier:
    """Train a classifier in memory, without an experiment folder (for a score computed on the fly);
    trainings that users start go through the runner instead."""
    trainer = ClassifierTrainer(network, train_a, train_b, test_a, test_b, settings)
    for _ in tqdm(range(settings.steps), disable=not progress, unit="step", dynamic_ncols=True, leave=False):
        trainer.train_step()
    return trainer.measured()


def _mean(value: float | torch.Tensor) -> float:
    return float(value.float().mean()) if isinstance(value, torch.Tensor) else float(value)


def transfer_strength(p_a_real_a: float | torch.Tensor, p_a_fake_b: float | torch.Tensor,
                      p_a_cycle_a: float | torch.Tensor, p_b_real_b: float | torch.Tensor,
                      p_b_fake_a: float | torch.Tensor, p_b_cycle_b: float | torch.Tensor) -> dict[str, float]:
    """S_A->B, S_B->A and S_tot (Brunner et al. 2018); P_B = 1 - P_A.

    ``p_a_fake_b`` is P_A of the A->B transfers, ``p_a_cycle_a`` P_A of their cycle back to A;
    ``p_b_*`` mirror them for the B->A direction.
    """
    s_ab = 0.5 * (_mean(p_a_real_a) - _mean(p_a_fake_b) + _mean(p_a_cycle_a) - _mean(p_a_fake_b))
    s_ba = 0.5 * (_mean(p_b_real_b) - _mean(p_b_fake_a) + _mean(p_b_cycle_b) - _mean(p_b_fake_a))
    return {"S_A->B": s_ab, "S_B->A": s_ba, "S_tot": 0.5 * (s_ab + s_ba)}


__all__ = ["ClassifierSettings", "ClassifierTrainer", "DomainClassifier", "train_classifier", "transfer_strength",
           "CHECKPOINT_NAME", "FORMAT"]
