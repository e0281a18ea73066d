"""Data-parallel training under ``torchrun`` with ``torch.distributed`` and DistributedDataParallel.

Every rank draws the same GLOBAL batch from the same random stream and keeps its own slice of it; the
history pool and every per-sample random draw (masks, discriminator-input noise, gradient-penalty
mixing) are likewise made for the global batch and sliced.  With gradients averaged by DDP, N ranks
with global batch B compute what one process computes with batch B, all random streams stay identical
on every rank, and a run can resume under a different number of ranks.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist

from ..errors import CycleAudioError


@dataclass
class DistributedContext:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def local_slice(self, global_batch: int) -> slice:
        """This rank's part of a global batch."""
        if global_batch % self.world_size:
            raise CycleAudioError(f"train.batch_size ({global_batch}) must be divisible by the number of processes "
                                  f"({self.world_size})")
        per_rank = global_batch // self.world_size
        return slice(self.rank * per_rank, (self.rank + 1) * per_rank)

    def barrier(self) -> None:
        if self.enabled:
            dist.barrier()

    def gather(self, local: torch.Tensor) -> torch.Tensor:
        """Concatenate every rank's tensor along the batch axis, in rank order."""
        if not self.enabled:
            return local
        parts = [torch.empty_like(local) for _ in range(self.world_size)]
        dist.all_gather(parts, local.contiguous())
        return torch.cat(parts)

    def mean(self, value: torch.Tensor) -> torch.Tensor:
        """Average of a tensor over ranks (for logging)."""
        if not self.enabled:
            return value
        value = value.clone()
        dist.all_reduce(value)
        return value / self.world_size


def init_distributed(device_name: str) -> tuple[DistributedContext, str]:
    """Join the process group that ``torchrun`` describes in the environment, if any.

    Returns the context and the device this rank should use (``cuda:LOCAL_RANK`` on GPUs).
    """
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size <= 1:
        return DistributedContext(), device_name
    rank, local_rank = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
    use_cuda = torch.cuda.is_available() and device_name in ("auto", "cuda") or device_name.startswith("cuda")
    if not dist.is_initialized():
        dist.init_process_group("nccl" if use_cuda else "gloo")
    if use_cuda:
        torch.cuda.set_device(local_rank)
        device_name = f"cuda:{local_rank}"
    else:
        device_name = "cpu"
    return DistributedContext(rank, world_size, local_rank), device_name


def shutdown_distributed(context: DistributedContext) -> None:
    if context.enabled and dist.is_initialized():
        dist.destroy_process_group()
