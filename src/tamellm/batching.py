"""Length-bucketed batching: sort by length, batch, then put results back in order.

Padding every batch to its longest member wastes compute when lengths vary; sorting
first keeps batches uniform (the trick behind most of the speed-up over a plain loop).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import TypeVar

T = TypeVar("T")
# What one more forward call of an encoder costs, in padded tokens (least_padding_batches). MiniLM on
# onnxruntime, 1 thread, random 32-text SST-2 micro-batches: 6.7 CPU-ms per text, against 9.0 when cut
# at 1024 padded tokens and 7.1 at 128; 8 to 32 measure alike, 64 already pads too much.
CALL_TOKENS = 16


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


def least_padding_batches(lengths: Sequence[int], batch_size: int,
                          call_tokens: int = CALL_TOKENS) -> list[list[int]]:
    """Split the indices, sorted longest first, into the batches that cost the fewest padded tokens.

    A batch costs its size times its longest length (the padded tokens a forward pass
    computes) plus ``call_tokens``, what one more forward call costs in tokens (kernel
    launches, tensor set-up, smaller matrices). The best split of a sorted list into runs of
    at most ``batch_size`` is a small dynamic programme over the cut points (O(n x
    batch_size)); no library offers it. A server micro-batch of 32 random SST-2 sentences
    padded as one batch computes 1.9x its real tokens, cut at 1024 padded tokens 1.5x.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    order = sorted(range(len(lengths)), key=lambda i: -lengths[i])
    n = len(order)
    best = [0.0] + [float("inf")] * n  # best[j]: cost of batching order[:j]
    cut = [0] * (n + 1)
    for j in range(1, n + 1):
        for i in range(max(0, j - batch_size), j):  # the last batch is order[i:j], its longest is order[i]
            cost = best[i] + (j - i) * lengths[order[i]] + call_tokens
            if cost < best[j]:
                best[j], cut[j] = cost, i
    batches: list[list[int]] = []
    j = n
    while j > 0:
        batches.append(order[cut[j]:j])
        j = cut[j]
    return batches[::-1]
