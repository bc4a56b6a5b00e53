"""Fusing the dense and BM25 scores of one query: reciprocal rank fusion (Cormack et al., 2009) or a
weighted sum of the two scores after scaling BM25 to [0, 1] (the weight calibrated on the FAQ itself).

``FUSIONS`` maps a method name (stored in the index metadata) to ``fn(dense, lexical, **params) -> scores``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from tamellm.errors import InputError

RRF_K = 60  # the constant of the original paper; it damps the weight of the very first ranks
DEFAULT_FUSION = {"method": "rrf"}  # what an index built before score fusion existed uses


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


def scaled_lexical(lexical: np.ndarray) -> np.ndarray:
    """BM25 scores divided by the query's best one (all zeros when no word matched).

    BM25 has no fixed range (it grows with the query's length and rare words); relative to the best
    entry it is comparable to a cosine similarity across queries.
    """
    lexical = np.asarray(lexical, dtype=np.float64)
    top = float(lexical.max()) if len(lexical) else 0.0
    return lexical / top if top > 0 else np.zeros_like(lexical)


def score_fusion(dense: np.ndarray, lexical: np.ndarray, dense_weight: float = 0.5) -> np.ndarray:
    """``dense_weight`` × cosine similarity + (1 − ``dense_weight``) × BM25 scaled by the query's best score."""
    return dense_weight * np.asarray(dense, dtype=np.float64) + (1 - dense_weight) * scaled_lexical(lexical)


def _rrf(dense: np.ndarray, lexical: np.ndarray, **_: object) -> np.ndarray:
    return reciprocal_rank_fusion([ranks(dense), ranks(lexical, floor=0.0)])


def _score(dense: np.ndarray, lexical: np.ndarray, dense_weight: float = 0.5, **_: object) -> np.ndarray:
    return score_fusion(dense, lexical, float(dense_weight))


FUSIONS: dict[str, Callable[..., np.ndarray]] = {"rrf": _rrf, "score": _score}


def fuse(dense: np.ndarray, lexical: np.ndarray, fusion: dict | None = None) -> np.ndarray:
    """Fused scores by ``fusion`` (``{"method": "rrf"}`` or ``{"method": "score", "dense_weight": w}``)."""
    fusion = fusion or DEFAULT_FUSION
    method = fusion.get("method", "rrf")
    if method not in FUSIONS:
        raise InputError(f"Unknown fusion method '{method}'", f"use one of {', '.join(FUSIONS)}")
    return FUSIONS[method](dense, lexical, **{k: v for k, v in fusion.items() if k != "method"})
