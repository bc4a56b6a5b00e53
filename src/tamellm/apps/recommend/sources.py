"""Candidate sources: each one fits arrays from the training events and scores every item for a query.

``SOURCES`` maps a name to a source; the fused recommender and the evaluation's baseline
arms both read it, so a new source is one registered class. Collaborative sources use
``implicit`` (item-item cosine kNN and ALS); content scores are cosine similarities between
a user's profile vector (recency-weighted mean of the item vectors in their history, or a
sentence they wrote) and the item vectors.
"""

from __future__ import annotations

import logging
import os
import warnings
from dataclasses import dataclass

import numpy as np
from scipy import sparse

from tamellm.registry import Registry
from tamellm.threads import one_blas_thread

logger = logging.getLogger(__name__)
SOURCES: Registry[type] = Registry("recommend_sources", "candidate source", name_attr="name")
Arrays = dict[str, np.ndarray]


@dataclass
class FitData:
    """What a source may learn from: the users x items matrix (recency-weighted) and the item vectors."""

    matrix: sparse.csr_matrix
    item_vectors: np.ndarray
    seed: int = 0


@dataclass
class Query:
    """Users to score: their histories (rows x items), their row in the training matrix (-1: not there),
    and their content profile vectors."""

    history: sparse.csr_matrix
    rows: np.ndarray
    profiles: np.ndarray


def _threads() -> int:
    return max(1, min(4, os.cpu_count() or 1))


@SOURCES.register("popularity")
class Popularity:
    """How many users chose each item (log-scaled): the answer for a user we know nothing about."""

    collaborative = True

    @staticmethod
    def fit(data: FitData) -> Arrays:
        counts = np.asarray((data.matrix > 0).sum(axis=0)).ravel().astype(np.float32)
        return {"popularity": np.log1p(counts)}

    @staticmethod
    def score(arrays: Arrays, query: Query) -> np.ndarray:
        return np.broadcast_to(arrays["popularity"], (query.history.shape[0], len(arrays["popularity"]))).copy()


@SOURCES.register("item_knn")
class ItemKnn:
    """Item-item cosine similarity over who chose what (implicit's CosineRecommender, 100 neighbours)."""

    collaborative = True
    neighbours = 100

    @classmethod
    def fit(cls, data: FitData) -> Arrays:
        from implicit.nearest_neighbours import CosineRecommender

        model = CosineRecommender(K=cls.neighbours, num_threads=_threads())
        with warnings.catch_warnings():  # implicit 0.7.3 normalises to COO itself, then warns about its own COO
            warnings.filterwarnings("ignore", message="Method expects CSR input")
            model.fit(sparse.csr_matrix(data.matrix, dtype=np.float64), show_progress=False)
        sim = sparse.csr_matrix(model.similarity, dtype=np.float32)
        sim.setdiag(0)  # an item does not recommend itself
        sim.eliminate_zeros()
        return {"knn_data": sim.data, "knn_indices": sim.indices, "knn_indptr": sim.indptr}

    @staticmethod
    def similarity(arrays: Arrays) -> sparse.csr_matrix:
        n = len(arrays["knn_indptr"]) - 1
        return sparse.csr_matrix((arrays["knn_data"], arrays["knn_indices"], arrays["knn_indptr"]), shape=(n, n))

    @classmethod
    def score(cls, arrays: Arrays, query: Query) -> np.ndarray:
        return np.asarray((query.history @ cls.similarity(arrays)).todense(), dtype=np.float32)


@SOURCES.register("als")
class Als:
    """Matrix factorisation for implicit feedback (implicit's AlternatingLeastSquares, 64 factors)."""

    collaborative = True
    factors = 64
    iterations = 20
    regularization = 0.05
    alpha = 2.0

    @classmethod
    def fit(cls, data: FitData) -> Arrays:
        from implicit.als import AlternatingLeastSquares
        with one_blas_thread():  # implicit warns (and slows down) when BLAS also runs threads
            model = AlternatingLeastSquares(factors=cls.factors, regularization=cls.regularization, alpha=cls.alpha,
                                            iterations=cls.iterations, random_state=data.seed,
                                            num_threads=_threads(), calculate_training_loss=False)
            model.fit(sparse.csr_matrix(data.matrix, dtype=np.float32), show_progress=False)
        users = np.asarray(model.user_factors, dtype=np.float32)
        items = np.asarray(model.item_factors, dtype=np.float32)
        items[np.asarray(data.matrix.sum(axis=0)).ravel() == 0] = 0  # unseen items keep no random factors
        return {"als_users": users, "als_items": items}

    @classmethod
    def score(cls, arrays: Arrays, query: Query) -> np.ndarray:
        users = arrays["als_users"]
        vectors = np.zeros((len(query.rows), users.shape[1]), dtype=np.float32)
        known = query.rows >= 0
        vectors[known] = users[query.rows[known]]
        unknown = np.flatnonzero(~known)
        for j in unknown:  # a history the model was not fitted on: solve for its user vector (fold-in)
            vectors[j] = cls.fold_in(arrays["als_items"], query.history[j])
        return vectors @ arrays["als_items"].T

    @classmethod
    def fold_in(cls, items: np.ndarray, history: sparse.csr_matrix) -> np.ndarray:
        """The user vector ALS would give this history, with the item vectors held fixed."""
        cols, weights = history.indices, history.data
        if not len(cols):
            return np.zeros(items.shape[1], dtype=np.float32)
        y = items[cols]
        confidence = 1.0 + cls.alpha * weights
        a = items.T @ items + cls.regularization * np.eye(items.shape[1], dtype=np.float32)
        a += (y * (confidence - 1)[:, None]).T @ y
        return np.linalg.solve(a, (y * confidence[:, None]).sum(axis=0)).astype(np.float32)


@SOURCES.register("content")
class Content:
    """Cosine similarity between the user's profile vector and each item's text vector."""

    collaborative = False

    @staticmethod
    def fit(data: FitData) -> Arrays:
        return {}

    @staticmethod
    def score(arrays: Arrays, query: Query) -> np.ndarray:
        return query.profiles @ arrays["item_vectors"].T


def profiles(history: sparse.csr_matrix, item_vectors: np.ndarray) -> np.ndarray:
    """Weighted mean of the history's item vectors, L2-normalised (zeros for an empty history)."""
    summed = np.asarray(history @ item_vectors, dtype=np.float32)
    norms = np.linalg.norm(summed, axis=1, keepdims=True)
    return summed / np.maximum(norms, 1e-9)


def neighbour_map(item_vectors: np.ndarray, cold: np.ndarray, warm: np.ndarray, k: int = 10,
                  temperature: float = 0.05) -> sparse.csr_matrix:
    """items x items: column c (a cold item) holds softmax weights on its ``k`` nearest warm items by text.

    ``scores @ M`` gives each cold item the weighted collaborative score of the items its text is
    closest to, so an item with only a text can be recommended by collaborative sources too.
    """
    n = len(item_vectors)
    if not len(cold) or not len(warm):
        return sparse.csr_matrix((n, n), dtype=np.float32)
    rows, cols, vals = [], [], []
    warm_vectors = item_vectors[warm]
    for start in range(0, len(cold), 1024):
        block = cold[start:start + 1024]
        sims = item_vectors[block] @ warm_vectors.T
        top = np.argpartition(-sims, min(k, sims.shape[1] - 1), axis=1)[:, :k]
        for r, c in enumerate(block):
            s = sims[r, top[r]]
            w = np.exp((s - s.max()) / temperature)
            rows.extend(warm[top[r]])
            cols.extend([c] * len(w))
            vals.extend(w / w.sum())
    return sparse.csr_matrix((np.asarray(vals, np.float32), (rows, cols)), shape=(n, n))
