"""Fusing rankings: reciprocal rank fusion (Cormack et al., 2009)."""

from __future__ import annotations

import numpy as np

RRF_K = 60  # the constant of the original paper; it damps the weight of the very first ranks


def ranks(scores: np.ndarray, floor: float | None = None) -> np.ndarray:
    """1-based rank of each item by descending score, ties sharing the best rank; items at or below ``floor``
    get rank 0 (unranked). Shared ranks matter: BM25 often ties, and list order must not break the tie."""
    from scipy.stats import rankdata

    out = rankdata(-np.asarray(scores, dtype=np.float64), method="min").astype(np.int64)
    if floor is not None:
        out[scores <= floor] = 0
    return out


def reciprocal_rank_fusion(rank_lists: list[np.ndarray], weights: list[float] | None = None,
                           k: int = RRF_K) -> np.ndarray:
    """Fused score per item: sum of weight / (k + rank) over the rankings that rank it, scaled to [0, 1].

    1.0 means first in every ranking; an item no ranking ranks scores 0.
    """
    weights = weights or [1.0] * len(rank_lists)
    fused = np.zeros(len(rank_lists[0]), dtype=np.float64)
    for rank, weight in zip(rank_lists, weights, strict=True):
        ranked = rank > 0
        fused[ranked] += weight / (k + rank[ranked])
    return fused / (sum(weights) / (k + 1))
