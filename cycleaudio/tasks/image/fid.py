"""FID and KID from InceptionV3 pool features, with user-supplied weights (nothing is downloaded).

The network comes as a TorchScript file (or a ``torch.export`` program, ``.pt2``): a module taking float images (B, 3, H, W) with values in
[0, 255] and returning (B, 2048) pool features (trailing 1x1 dimensions are flattened).  NVIDIA's
``inception-2015-12-05.pt`` (the TensorFlow FID network, as used by StyleGAN and clean-fid) fits this:
its ``return_features`` switch is turned on when the module has one, and it resizes to 299 itself.
Images are resized to 299 x 299 here before the call, so other TorchScript exports work the same way.

FID (Heusel et al. 2017): |mu1 - mu2|^2 + tr(S1 + S2 - 2 (S1^1/2 S2 S1^1/2)^1/2), computed with
symmetric eigendecompositions in float64 (no complex square roots).  KID (Binkowski et al. 2018): the
unbiased MMD^2 with the cubic polynomial kernel (x.y / d + 1)^3, averaged over random subsets.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Sequence

import torch
from torch.nn import functional as F

from ...errors import CycleAudioError

INPUT_SIZE = 299


def _load_network(path: Path, device: torch.device | str) -> torch.nn.Module:
    if path.suffix == ".pt2":
        return torch.export.load(str(path)).module().to(device)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # TorchScript is deprecated, but it is how the weights ship
        return torch.jit.load(str(path), map_location=device).eval()


class InceptionFeatures:
    """A loaded TorchScript feature extractor and the calling convention it needs."""

    def __init__(self, path: Path | str, device: torch.device | str = "cpu") -> None:
        path = Path(path)
        if not path.is_file():
            raise CycleAudioError(f"{path}: no such Inception weights file")
        try:
            self.module = _load_network(path, device)
        except Exception as exc:  # TorchScript and export raise several types for foreign files
            raise CycleAudioError(f"{path}: not a TorchScript Inception network ({type(exc).__name__}); "
                                  "see docs/image.md for the expected file") from None
        self.path, self.device = path, torch.device(device)
        schema = getattr(getattr(self.module, "forward", None), "schema", None)
        names = [arg.name for arg in schema.arguments] if schema is not None else []
        self.kwargs = {"return_features": True} if "return_features" in names else {}

    @torch.no_grad()
    def __call__(self, images: Sequence[torch.Tensor], chunk: int = 16) -> torch.Tensor:
        """(N, D) float64 features of uint8 (3, H, W) images of any sizes."""
        feats = []
        for start in range(0, len(images), chunk):
            batch = torch.stack([
                F.interpolate(img[None].float(), size=(INPUT_SIZE, INPUT_SIZE), mode="bilinear",
                              align_corners=False, antialias=True)[0]
                for img in images[start:start + chunk]
            ]).to(self.device)
            out = self.module(batch, **self.kwargs)
            if not isinstance(out, torch.Tensor) or out.shape[0] != batch.shape[0]:
                raise CycleAudioError(f"{self.path}: the network must return one feature vector per image")
            feats.append(out.reshape(out.shape[0], -1).double().cpu())
        return torch.cat(feats)


def _sqrt_psd(matrix: torch.Tensor) -> torch.Tensor:
    values, vectors = torch.linalg.eigh(matrix)
    return (vectors * values.clamp_min(0).sqrt()) @ vectors.T


def frechet_distance(feats_1: torch.Tensor, feats_2: torch.Tensor) -> float:
    """FID between two (N, D) feature sets (each needs N >= 2)."""
    if feats_1.shape[0] < 2 or feats_2.shape[0] < 2:
        raise CycleAudioError("FID needs at least 2 images on each side")
    x, y = feats_1.double(), feats_2.double()
    mu_1, mu_2 = x.mean(0), y.mean(0)
    cov_1, cov_2 = torch.cov(x.T).reshape(x.shape[1], -1), torch.cov(y.T).reshape(y.shape[1], -1)
    root_1 = _sqrt_psd(cov_1)
    middle = root_1 @ cov_2 @ root_1
    trace_sqrt = torch.linalg.eigvalsh((middle + middle.T) / 2).clamp_min(0).sqrt().sum()
    value = (mu_1 - mu_2).square().sum() + cov_1.trace() + cov_2.trace() - 2 * trace_sqrt
    return float(value.clamp_min(0))


def _mmd2_unbiased(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    dim = x.shape[1]
    k_xx = (x @ x.T / dim + 1) ** 3
    k_yy = (y @ y.T / dim + 1) ** 3
    k_xy = (x @ y.T / dim + 1) ** 3
    m, n = x.shape[0], y.shape[0]
    within_x = (k_xx.sum() - k_xx.diagonal().sum()) / (m * (m - 1))
    within_y = (k_yy.sum() - k_yy.diagonal().sum()) / (n * (n - 1))
    return within_x + within_y - 2 * k_xy.mean()


def kernel_inception_distance(feats_1: torch.Tensor, feats_2: torch.Tensor, subsets: int = 100,
                              subset_size: int = 1000, seed: int = 0) -> tuple[float, float]:
    """KID (mean, std over ``subsets`` random subsets of min(subset_size, N1, N2) items each)."""
    size = min(subset_size, feats_1.shape[0], feats_2.shape[0])
    if size < 2:
        raise CycleAudioError("KID needs at least 2 images on each side")
    g = torch.Generator().manual_seed(seed)
    x, y = feats_1.double(), feats_2.double()
    values = torch.stack([
        _mmd2_unbiased(x[torch.randperm(x.shape[0], generator=g)[:size]], y[torch.randperm(y.shape[0], generator=g)[:size]])
        for _ in range(subsets)
    ])
    return float(values.mean()), float(values.std()) if subsets > 1 else 0.0
