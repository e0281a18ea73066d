"""Training samples drawn from memory with an explicit random generator.

Features are extracted once and held in memory; every batch is a set of random fixed-size crops drawn
with a ``torch.Generator`` owned by the trainer.  Because that generator's state is saved in the
checkpoint, a resumed run draws exactly the batches the uninterrupted run would have drawn.
"""

from __future__ import annotations

from typing import Protocol, Sequence

import torch


class SampleSource(Protocol):
    """A domain's training material: ``len`` items, batches of random crops."""

    def __len__(self) -> int: ...

    def sample(self, batch_size: int, generator: torch.Generator) -> torch.Tensor: ...


class RandomCrops:
    """Random crops of ``crop`` steps along the last axis of randomly chosen items (any leading shape)."""

    def __init__(self, items: Sequence[torch.Tensor], crop: int) -> None:
        if not items:
            raise ValueError("no training items")
        short = [i for i, item in enumerate(items) if item.shape[-1] < crop]
        if short:
            raise ValueError(f"{len(short)} items are shorter than the crop of {crop} steps")
        self.items = list(items)
        self.crop = crop

    def __len__(self) -> int:
        return len(self.items)

    def sample(self, batch_size: int, generator: torch.Generator) -> torch.Tensor:
        picks = torch.randint(len(self.items), (batch_size,), generator=generator).tolist()
        crops = []
        for index in picks:
            item = self.items[index]
            start = int(torch.randint(item.shape[-1] - self.crop + 1, (), generator=generator))
            crops.append(item[..., start:start + self.crop])
        return torch.stack(crops)


class UnionSource:
    """Samples uniformly over the items of several sources (the real set of a mixed discriminator)."""

    def __init__(self, sources: Sequence[SampleSource]) -> None:
        self.sources = list(sources)
        self.sizes = torch.tensor([len(s) for s in self.sources], dtype=torch.float64)

    def __len__(self) -> int:
        return int(self.sizes.sum())

    def sample(self, batch_size: int, generator: torch.Generator) -> torch.Tensor:
        owners = torch.multinomial(self.sizes, batch_size, replacement=True, generator=generator).tolist()
        return torch.cat([self.sources[o].sample(1, generator) for o in owners])
