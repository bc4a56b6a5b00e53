"""Length-grouped, seeded batches: similar lengths share a batch, so padding stays small.

The order of epoch ``e`` depends only on (seed, e), so a resumed run rebuilds exactly
the batches it would have seen and skips those already done.
"""

from __future__ import annotations

import torch

MEGABATCH = 50  # batches per length-sorted chunk (the same idea as transformers' LengthGroupedSampler)


def epoch_batches(lengths: list[int], batch_size: int, seed: int, epoch: int,
                  rank: int = 0, world_size: int = 1) -> list[list[int]]:
    """The batches (lists of example indices) of one epoch for process ``rank`` of ``world_size``.

    Examples are shuffled, cut into chunks of ``MEGABATCH`` batches, sorted by length
    inside each chunk and batched; batch order is then shuffled. Under
    torch.distributed each rank takes every ``world_size``-th batch of the same list
    (the list is cut to a multiple of ``world_size`` so that ranks step together).
    """
    generator = torch.Generator().manual_seed(seed * 100_003 + epoch)
    order = torch.randperm(len(lengths), generator=generator).tolist()
    chunk = batch_size * MEGABATCH
    batches: list[list[int]] = []
    for start in range(0, len(order), chunk):
        part = sorted(order[start:start + chunk], key=lambda i: -lengths[i])
        batches += [part[i:i + batch_size] for i in range(0, len(part), batch_size)]
    shuffled = [batches[i] for i in torch.randperm(len(batches), generator=generator).tolist()]
    if world_size > 1:
        usable = max(world_size, len(shuffled) - len(shuffled) % world_size)
        shuffled = (shuffled * world_size)[:usable]
        return shuffled[rank::world_size]
    return shuffled


def eval_batches(lengths: list[int], batch_size: int) -> list[list[int]]:
    """Batches for evaluation: sorted by length (little padding), every example once."""
    order = sorted(range(len(lengths)), key=lambda i: -lengths[i])
    return [order[i:i + batch_size] for i in range(0, len(order), batch_size)]
