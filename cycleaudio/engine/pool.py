"""History pool of generated samples (Shrivastava et al. 2017), as used by image and music CycleGAN.

The discriminator sees a mix of the newest fakes and older ones, which damps oscillation.  The pool's
contents and its random stream are part of the checkpoint, so resumed training is exact.
"""

from __future__ import annotations

import torch


class HistoryPool:
    """Keeps up to ``size`` past fakes; each query returns, per sample, the new fake or (p=0.5) a stored one."""

    def __init__(self, size: int, seed: int = 0) -> None:
        self.size = size
        self.items: list[torch.Tensor] = []
        self.generator = torch.Generator().manual_seed(seed)

    def query(self, fakes: torch.Tensor) -> torch.Tensor:
        if self.size == 0:
            return fakes
        out = []
        for fake in fakes.detach():
            if len(self.items) < self.size:
                self.items.append(fake.clone())
                out.append(fake)
            elif torch.rand((), generator=self.generator).item() < 0.5:
                index = int(torch.randint(len(self.items), (), generator=self.generator))
                out.append(self.items[index].clone())
                self.items[index] = fake.clone()
            else:
                out.append(fake)
        return torch.stack(out)

    def state_dict(self) -> dict:
        items = torch.stack(self.items).cpu() if self.items else torch.empty(0)
        return {"items": items, "rng": self.generator.get_state()}

    def load_state_dict(self, state: dict, device: torch.device | str = "cpu") -> None:
        self.items = [item.to(device) for item in state["items"]] if state["items"].numel() else []
        self.generator.set_state(state["rng"])
