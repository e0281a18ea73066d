"""FID/KID math on synthetic features, and the TorchScript Inception plumbing with a stand-in network."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from scipy import linalg

from cycleaudio.errors import CycleAudioError
from cycleaudio.tasks.image.fid import InceptionFeatures, frechet_distance, kernel_inception_distance


def _reference_fid(x: np.ndarray, y: np.ndarray) -> float:
    mu1, mu2 = x.mean(0), y.mean(0)
    s1, s2 = np.cov(x, rowvar=False), np.cov(y, rowvar=False)
    root = linalg.sqrtm(s1 @ s2).real
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1 + s2 - 2 * root))


def test_fid_matches_the_textbook_formula() -> None:
    g = torch.Generator().manual_seed(0)
    x = torch.randn(300, 6, generator=g, dtype=torch.float64)
    y = torch.randn(250, 6, generator=g, dtype=torch.float64) @ torch.rand(6, 6, generator=g, dtype=torch.float64) + 0.5
    assert frechet_distance(x, y) == pytest.approx(_reference_fid(x.numpy(), y.numpy()), rel=1e-6)


def test_fid_of_shifted_gaussians_is_the_squared_shift() -> None:
    g = torch.Generator().manual_seed(1)
    x = torch.randn(20000, 4, generator=g, dtype=torch.float64)
    shift = torch.tensor([1.0, -2.0, 0.0, 0.5], dtype=torch.float64)
    assert frechet_distance(x, x + shift) == pytest.approx(float(shift.square().sum()), rel=1e-6)
    assert frechet_distance(x, x) == pytest.approx(0.0, abs=1e-6)
    with pytest.raises(CycleAudioError, match="at least 2"):
        frechet_distance(x[:1], x)


def test_kid_is_zero_for_one_distribution_and_grows_with_a_shift() -> None:
    g = torch.Generator().manual_seed(2)
    x = torch.randn(400, 16, generator=g, dtype=torch.float64)
    y = torch.randn(400, 16, generator=g, dtype=torch.float64)
    same, same_std = kernel_inception_distance(x, y, subsets=20, subset_size=200)
    shifted, _ = kernel_inception_distance(x, y + 1.0, subsets=20, subset_size=200)
    assert abs(same) < 3 * same_std + 1e-3
    assert shifted > 10 * abs(same) and shifted > 0.1
    # the unbiased estimator on fixed subsets equals the direct formula
    k = lambda a, b: (a @ b.T / 16 + 1) ** 3  # noqa: E731
    a, b = x[:50], y[:50] + 0.3
    direct = ((k(a, a).sum() - k(a, a).trace()) / (50 * 49) + (k(b, b).sum() - k(b, b).trace()) / (50 * 49)
              - 2 * k(a, b).mean())
    assert kernel_inception_distance(a, b, subsets=1, subset_size=50)[0] == pytest.approx(float(direct), rel=1e-9)


class _StandIn(torch.nn.Module):
    """A TorchScript-able feature network with the NVIDIA Inception calling convention."""

    def forward(self, x: torch.Tensor, return_features: bool = False) -> torch.Tensor:
        assert return_features
        pooled = torch.nn.functional.adaptive_avg_pool2d(x / 255.0, 4)
        return pooled.flatten(1)


def inception_stand_in(path: Path) -> Path:
    torch.jit.script(_StandIn()).save(str(path))
    return path


@pytest.mark.filterwarnings("ignore::FutureWarning")
def test_torchscript_features(tmp_path: Path) -> None:
    net = InceptionFeatures(inception_stand_in(tmp_path / "inc.pt"))
    images = [torch.randint(0, 256, (3, 40, 30), dtype=torch.uint8) for _ in range(3)]
    feats = net(images)
    assert feats.shape == (3, 48) and feats.dtype == torch.float64
    (tmp_path / "junk.pt").write_bytes(b"junk")
    with pytest.raises(CycleAudioError, match="not a TorchScript"):
        InceptionFeatures(tmp_path / "junk.pt")
    with pytest.raises(CycleAudioError, match="no such"):
        InceptionFeatures(tmp_path / "missing.pt")
