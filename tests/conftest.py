"""Shared test settings: small thread counts keep the suite fast and deterministic on 2 cores."""

import os

import pytest
import torch

torch.set_num_threads(1)
os.environ.setdefault("CYCLEAUDIO_CACHE", "")


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)
