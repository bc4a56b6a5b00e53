"""The fitted recommender in memory: catalogue, training events, source arrays, fusion weights; scoring."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import sparse

from tamellm.apps.recommend.dataset import Catalog, Events
from tamellm.apps.recommend.fusion import fuse, standardize
from tamellm.apps.recommend.sources import SOURCES, FitData, Query, neighbour_map, profiles

DEFAULT_SOURCES = ("popularity", "item_knn", "als", "content")
PSEUDO_HISTORY = 10  # a sentence stands in for a history: its nearest items by text seed the collaborative sources


@dataclass
class RecModel:
    """Everything a recommendation needs; ``arrays`` holds each source's fitted arrays and the item vectors."""

    catalog: Catalog
    events: Events
    arrays: dict[str, np.ndarray]
    weights: dict[str, float]
    encoder: str
    neighbours: sparse.csr_matrix
    meta: dict = field(default_factory=dict)
    _history: sparse.csr_matrix | None = None
    _seen: sparse.csr_matrix | None = None
    user_index: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.user_index = {u: i for i, u in enumerate(self.events.users)}

    @property
    def item_vectors(self) -> np.ndarray:
        return self.arrays["item_vectors"]

    @property
    def history(self) -> sparse.csr_matrix:
        """users x items, recency-weighted: what the sources read."""
        if self._history is None:
            self._history = self.events.matrix(len(self.catalog))
        return self._history

    @property
    def seen(self) -> sparse.csr_matrix:
        """users x items, nonzero where the user already chose the item (never recommended again)."""
        if self._seen is None:
            self._seen = self.events.matrix(len(self.catalog), recency=False)
        return self._seen

    def warm_mask(self) -> np.ndarray:
        """Items with at least one training event."""
        return np.asarray((self.seen > 0).sum(axis=0)).ravel() > 0

    # --- queries -------------------------------------------------------------------------------

    def user_query(self, rows: np.ndarray) -> Query:
        history = self.history[rows]
        return Query(history, np.asarray(rows, dtype=np.int64), profiles(history, self.item_vectors))

    def text_query(self, vector: np.ndarray, history: sparse.csr_matrix | None = None) -> Query:
        """A query from a sentence's vector, optionally mixed with a history (1 x items)."""
        sims = self.item_vectors @ vector
        warm = self.warm_mask()
        pseudo = np.zeros(len(self.catalog), dtype=np.float32)
        if warm.any():
            candidates = np.flatnonzero(warm)
            best = candidates[np.argsort(-sims[candidates])[:PSEUDO_HISTORY]]
            pseudo[best] = np.maximum(sims[best], 0.0)
        row = sparse.csr_matrix(pseudo[None, :])
        profile = vector[None, :].astype(np.float32)
        if history is not None and history.nnz:
            row = row + history
            mixed = profiles(history, self.item_vectors)[0] + vector
            profile = (mixed / max(float(np.linalg.norm(mixed)), 1e-9))[None, :].astype(np.float32)
        return Query(sparse.csr_matrix(row, dtype=np.float32), np.array([-1]), profile)

    def empty_query(self) -> Query:
        n = len(self.catalog)
        return Query(sparse.csr_matrix((1, n), dtype=np.float32), np.array([-1]),
                     np.zeros((1, self.item_vectors.shape[1]), dtype=np.float32))

    # --- scores -------------------------------------------------------------------------------

    def source_scores(self, query: Query, names: tuple[str, ...] = DEFAULT_SOURCES,
                      impute: bool = True) -> dict[str, np.ndarray]:
        """Raw scores per source; with ``impute``, items without events get their text neighbours'
        collaborative scores (so new items are recommendable at once)."""
        out = {}
        for name in names:
            source = SOURCES[name]
            scores = source.score(self.arrays, query)
            if impute and source.collaborative and self.neighbours.nnz:
                scores = scores + (self.neighbours.T @ scores.T).T  # scores @ neighbours, kept dense
            out[name] = np.asarray(scores, dtype=np.float32)
        return out

    def fused(self, query: Query) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """Fused scores (rows x items) and the standardized per-source scores they were made of."""
        names = tuple(n for n in DEFAULT_SOURCES if self.weights.get(n, 0.0))
        parts = {n: standardize(s) for n, s in self.source_scores(query, names).items()}
        return fuse(parts, self.weights), parts


def fit_arrays(events: Events, catalog: Catalog, item_vectors: np.ndarray, seed: int = 0,
               names: tuple[str, ...] = DEFAULT_SOURCES) -> dict[str, np.ndarray]:
    """Fit every source on ``events``; the item vectors travel with the arrays."""
    data = FitData(events.matrix(len(catalog)), item_vectors, seed)
    arrays: dict[str, np.ndarray] = {"item_vectors": item_vectors}
    for name in names:
        arrays.update(SOURCES[name].fit(data))
    return arrays


def cold_neighbours(events: Events, catalog: Catalog, item_vectors: np.ndarray) -> sparse.csr_matrix:
    """The text-neighbour map from items with no training event (and a text) to items with events."""
    counts = np.bincount(events.item_cols, minlength=len(catalog))
    has_text = np.linalg.norm(item_vectors, axis=1) > 0
    cold = np.flatnonzero((counts == 0) & has_text)
    warm = np.flatnonzero((counts > 0) & has_text)
    return neighbour_map(item_vectors, cold, warm)
