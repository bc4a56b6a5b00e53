"""Length-bucketed batching: sort by length, batch, then put results back in order.

Padding every batch to its longest member wastes compute when lengths vary; sorting
first keeps batches uniform (the trick behind most of the speed-up over a plain loop).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import TypeVar

T = TypeVar("T")


def length_sorted_batches(
    lengths: Sequence[int], batch_size: int, max_tokens: int | None = None
) -> Iterator[list[int]]:
    """Yield lists of indices, longest first, each at most ``batch_size`` long.

    With ``max_tokens``, a batch also holds at most that many padded tokens (its first,
    longest member's length times its size): long texts go in small batches, short ones
    in large, so a mixed micro-batch is not padded throughout to its longest text.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    order = sorted(range(len(lengths)), key=lambda i: -lengths[i])
    start = 0
    while start < len(order):
        size = batch_size
        if max_tokens is not None:
            size = min(batch_size, max(1, max_tokens // max(1, lengths[order[start]])))
        yield order[start : start + size]
        start += size


def run_batched(
    items: Sequence[str],
    batch_size: int,
    fn: Callable[[list[str]], Sequence[T]],
    length: Callable[[str], int] = len,
) -> list[T]:
    """Call ``fn`` on length-sorted batches of ``items``; return results in input order."""
    results: list[T | None] = [None] * len(items)
    for indices in length_sorted_batches([length(x) for x in items], batch_size):
        outputs = fn([items[i] for i in indices])
        for i, out in zip(indices, outputs, strict=True):
            results[i] = out
    return results  # type: ignore[return-value]
