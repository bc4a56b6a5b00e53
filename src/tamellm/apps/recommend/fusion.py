"""Fusing the sources' scores, ranking metrics, and choosing the fusion weights on held-out events."""

from __future__ import annotations

import logging

import numpy as np
from scipy import sparse

logger = logging.getLogger(__name__)
WEIGHT_GRID = (0.0, 0.1, 0.25, 0.5, 1.0, 2.0)


def standardize(scores: np.ndarray) -> np.ndarray:
    """Per row: (score - mean) / std, so sources on different scales add up (a flat row stays 0)."""
    mean = scores.mean(axis=1, keepdims=True)
    std = scores.std(axis=1, keepdims=True)
    return (scores - mean) / np.where(std > 1e-12, std, 1.0)


def fuse(standardized: dict[str, np.ndarray], weights: dict[str, float]) -> np.ndarray:
    """The weighted sum of standardized source scores."""
    names = [n for n in standardized if weights.get(n, 0.0)]
    if not names:
        return np.zeros_like(next(iter(standardized.values())))
    out = weights[names[0]] * standardized[names[0]]
    for name in names[1:]:
        out = out + weights[name] * standardized[name]
    return out


def top_k(scores: np.ndarray, k: int, exclude: sparse.csr_matrix | None = None,
          allowed: np.ndarray | None = None) -> np.ndarray:
    """Column indices of the ``k`` best items per row, best first; ``exclude`` (rows x items, nonzero = seen)
    and items outside ``allowed`` (a column mask) are never returned."""
    scores = np.array(scores, dtype=np.float32, copy=True)
    if allowed is not None:
        scores[:, ~allowed] = -np.inf
    if exclude is not None:
        coo = exclude.tocoo()
        scores[coo.row, coo.col] = -np.inf
    k = min(k, scores.shape[1])
    part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    order = np.take_along_axis(scores, part, axis=1).argsort(axis=1)[:, ::-1]
    return np.take_along_axis(part, order, axis=1)


def ranking_metrics(ranked: np.ndarray, relevant: list[set[int]], k: int = 10) -> dict[str, float]:
    """Mean recall@k (hits / min(k, relevant)) and NDCG@k over the rows that have relevant items."""
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    recalls, ndcgs = [], []
    for row, rel in zip(ranked, relevant, strict=True):
        if not rel:
            continue
        hits = np.array([c in rel for c in row[:k]], dtype=np.float64)
        recalls.append(hits.sum() / min(k, len(rel)))
        ndcgs.append(float(hits @ discounts[: len(hits)]) / float(discounts[: min(k, len(rel))].sum()))
    n = len(recalls)
    return {f"recall@{k}": round(float(np.mean(recalls)) if n else 0.0, 4),
            f"ndcg@{k}": round(float(np.mean(ndcgs)) if n else 0.0, 4), "users": n}


def choose_weights(standardized: dict[str, np.ndarray], relevant: list[set[int]], exclude: sparse.csr_matrix,
                   k: int = 10, passes: int = 2) -> tuple[dict[str, float], float]:
    """Coordinate ascent over WEIGHT_GRID maximising NDCG@k on held-out events; returns (weights, ndcg)."""
    weights = dict.fromkeys(standardized, 1.0)

    def value(w: dict[str, float]) -> float:
        return ranking_metrics(top_k(fuse(standardized, w), k, exclude), relevant, k)[f"ndcg@{k}"]

    best = value(weights)
    for _ in range(passes):
        improved = False
        for name in standardized:
            for candidate in WEIGHT_GRID:
                if candidate == weights[name]:
                    continue
                trial = {**weights, name: candidate}
                if not any(trial.values()):
                    continue
                score = value(trial)
                if score > best + 1e-6:
                    best, weights, improved = score, trial, True
        if not improved:
            break
    logger.info("fusion weights %s (validation ndcg@%d %.4f)", weights, k, best)
    return weights, best
