"""torch.distributed when launched by torchrun / accelerate (WORLD_SIZE > 1); a no-op otherwise."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

import torch

logger = logging.getLogger(__name__)


@dataclass
class Dist:
    """This process's place: rank, world size; ``main`` is the one that writes files."""

    rank: int = 0
    world_size: int = 1

    @property
    def main(self) -> bool:
        return self.rank == 0

    @property
    def active(self) -> bool:
        return self.world_size > 1

    def wrap(self, model: torch.nn.Module) -> torch.nn.Module:
        """DDP around ``model`` when distributed (gradients are averaged across processes)."""
        if not self.active:
            return model
        from torch.nn.parallel import DistributedDataParallel

        return DistributedDataParallel(model, find_unused_parameters=True)

    def barrier(self) -> None:
        """Wait for every process."""
        if self.active:
            torch.distributed.barrier()

    def any(self, flag: bool) -> bool:
        """True on every process when ``flag`` is True on any (e.g. the time budget ran out on one)."""
        if not self.active:
            return flag
        value = torch.tensor([1.0 if flag else 0.0])
        torch.distributed.all_reduce(value, op=torch.distributed.ReduceOp.MAX)
        return bool(value.item())


def setup() -> Dist:
    """Join the process group when WORLD_SIZE > 1 (gloo on CPU, nccl on GPU)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return Dist()
    if not torch.distributed.is_initialized():
        backend = "nccl" if torch.cuda.is_available() else "gloo"
        torch.distributed.init_process_group(backend)
        logger.info("joined a %d-process group (%s) as rank %d", world, backend, torch.distributed.get_rank())
    return Dist(torch.distributed.get_rank(), torch.distributed.get_world_size())


def teardown(dist: Dist) -> None:
    """Leave the process group."""
    if dist.active and torch.distributed.is_initialized():
        torch.distributed.destroy_process_group()


def unwrap(model: torch.nn.Module) -> torch.nn.Module:
    """The module inside a DDP wrapper."""
    return getattr(model, "module", model)
