"""The language-model ranker (LlamaRec-style second stage): an encoder fine-tuned to read a user's recent
history and a candidate's text and say whether the user picks it next.

Training pairs come from the events themselves, in time order: for a target event, the
history is what the user chose *before* it (titles, latest first), the positive is the
target, and the negatives are items the user never chose: two from the top of the fused
candidates (hard ones) and one drawn by popularity. The model is a ``classify`` fine-tune
of the recommender's encoder through ``tamellm.train`` (tamellm's own loop), within a time
budget. Scoring is pointwise (one candidate per input), so the order in which candidates
are listed cannot bias it (LLMRank's position bias concerns listwise prompts).

Whether it stays on is measured, not assumed: on users held out of its training, each
user's latest event is hidden, the fused candidates are computed from the history before
it (ALS folds the user in again), and the candidates are re-scored with several weights
for the ranker; ``default`` is on only when the best weight beats the fused order.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import sparse

from tamellm.apps.recommend.fusion import ranking_metrics, standardize, top_k
from tamellm.apps.recommend.model import RecModel, cold_neighbours, fit_arrays
from tamellm.apps.recommend.sources import Query, profiles

logger = logging.getLogger(__name__)
CANDIDATES = 20  # fused candidates the ranker re-scores
HISTORY_TITLES = 8
TARGETS_PER_USER = 3
VALIDATION_USERS = 60
BETAS = (0.0, 0.25, 0.5, 1.0, 2.0)
YES, NO = "yes", "no"


def pair_text(history_titles: list[str], candidate_text: str) -> str:
    """What the ranker reads: the recent history (latest first), then the candidate."""
    liked = "; ".join(history_titles[:HISTORY_TITLES]) or "nothing yet"
    return f"Recently chose: {liked}. Candidate: {candidate_text}"


def _query_before(model: RecModel, row: int, cut: int) -> tuple[Query, np.ndarray]:
    """A query from user ``row``'s first ``cut`` events (a history the fitted arrays did not see as such)."""
    cols = model.events.history(row)[:cut]
    n = len(cols)
    weights = 0.5 ** (np.arange(n)[::-1] / 30.0)
    history = sparse.csr_matrix((weights.astype(np.float32), (np.zeros(n, int), cols)),
                                shape=(1, len(model.catalog)))
    return Query(history, np.array([-1]), profiles(history, model.item_vectors)), cols


def _titles(model: RecModel, cols: np.ndarray) -> list[str]:
    return [model.catalog.titles[c] for c in cols[::-1]]


def make_pairs(model: RecModel, users: np.ndarray, seed: int) -> pd.DataFrame:
    """(text, label) pairs from each user's latest events, histories strictly before each target."""
    rng = np.random.default_rng(seed)
    popularity = np.asarray((model.seen > 0).sum(axis=0)).ravel().astype(np.float64)
    popularity /= popularity.sum()
    rows = []
    for row in users:
        cols = model.events.history(int(row))
        everything = set(cols.tolist())
        for cut in range(max(5, len(cols) - TARGETS_PER_USER), len(cols)):
            query, before = _query_before(model, int(row), cut)
            fused, _ = model.fused(query)
            candidates = [c for c in top_k(fused, 30)[0] if c not in everything]
            negatives = list(rng.choice(candidates, size=min(2, len(candidates)), replace=False)) if candidates else []
            for _ in range(5):
                c = int(rng.choice(len(popularity), p=popularity))
                if c not in everything:
                    negatives.append(c)
                    break
            titles = _titles(model, before)
            rows.append((pair_text(titles, model.catalog.texts[cols[cut]] or model.catalog.titles[cols[cut]]), YES))
            rows.extend((pair_text(titles, model.catalog.texts[c] or model.catalog.titles[c]), NO) for c in negatives)
    frame = pd.DataFrame(rows, columns=["text", "label"])
    return frame.sample(frac=1.0, random_state=seed).reset_index(drop=True)


class Ranker:
    """A fine-tuned classifier folder that scores (history, candidate) texts; ``beta`` weighs its logit."""

    def __init__(self, task_model, beta: float, candidates: int = CANDIDATES) -> None:
        self.task_model = task_model
        self.beta = beta
        self.candidates = candidates

    @classmethod
    def load(cls, folder: str | Path, meta: dict | None = None) -> Ranker:
        import tamellm.api as api

        meta = meta or {}
        return cls(api.load(str(folder), task="classify"), float(meta.get("beta", 1.0)),
                   int(meta.get("candidates", CANDIDATES)))

    def logits(self, texts: list[str]) -> np.ndarray:
        """log(p(yes) / p(no)) per text."""
        results = self.task_model.predict(texts)
        results = results if isinstance(results, list) else [results]
        p = np.array([r.scores.get(YES, 0.0) for r in results], dtype=np.float64).clip(1e-6, 1 - 1e-6)
        return np.log(p / (1 - p))

    def texts(self, model: RecModel, history_titles: list[str], candidates: np.ndarray, text: str | None) -> list[str]:
        titles = ([f"in their words: {text}"] if text else []) + history_titles
        return [pair_text(titles, model.catalog.texts[c] or model.catalog.titles[c]) for c in candidates]

    def candidate_logits(self, model: RecModel, row: int | None, text: str | None,
                         candidates: np.ndarray) -> np.ndarray:
        """The ranker's logit for each candidate, reading user ``row``'s history (and ``text``)."""
        history = _titles(model, model.events.history(row)) if row is not None else []
        return self.logits(self.texts(model, history, candidates, text))

    def rerank(self, model: RecModel, row: int | None, text: str | None, candidates: np.ndarray,
               scores: np.ndarray, beta: float | None = None,
               logits: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Candidates re-ordered by fused score (standardized) + beta * ranker logit."""
        beta = self.beta if beta is None else beta
        if not len(candidates) or beta == 0:
            return candidates, scores
        if logits is None:
            logits = self.candidate_logits(model, row, text, candidates)
        combined = standardize(np.asarray(scores, dtype=np.float64)[None, :])[0] + beta * logits
        order = np.argsort(-combined, kind="stable")
        return candidates[order], combined[order]


def validate(model: RecModel, ranker: Ranker, users: np.ndarray, k: int = 10) -> dict:
    """NDCG@k of the fused order and of each beta, each user's latest event hidden from every source.

    The sources are fitted again without those events: item-kNN or ALS fitted on them would
    already know that the user chose the hidden item, and the fused order would look far
    better than it is.
    """
    last = np.zeros(len(model.events), dtype=bool)
    for row in users:
        last[np.flatnonzero(model.events.user_rows == row)[-1]] = True
    sub = model.events.subset(~last)
    hidden = RecModel(model.catalog, sub, fit_arrays(sub, model.catalog, model.item_vectors,
                                                     model.meta.get("seed", 0)),
                      model.weights, model.encoder, cold_neighbours(sub, model.catalog, model.item_vectors))
    ranked: dict[float, list[np.ndarray]] = {b: [] for b in BETAS}
    relevant = []
    for row in users:
        fused, _ = hidden.fused(hidden.user_query(np.array([row])))
        candidates = top_k(fused, ranker.candidates, hidden.seen[[row]])[0]
        logits = ranker.candidate_logits(hidden, int(row), None, candidates)
        base = standardize(fused[0, candidates][None, :].astype(np.float64))[0]
        for b in BETAS:
            ranked[b].append(candidates[np.argsort(-(base + b * logits), kind="stable")][:k])
        relevant.append({int(model.events.item_cols[last & (model.events.user_rows == row)][0])})
    return {b: ranking_metrics(np.stack(v), relevant, k)[f"ndcg@{k}"] for b, v in ranked.items()}


def train_ranker(model: RecModel, budget_s: float = 90.0, seed: int = 0) -> tuple[Path, dict]:
    """Fine-tune the ranker on ``model``'s events; returns its folder (a temporary one) and its metadata."""
    import tamellm.api as api

    start = time.perf_counter()
    counts = np.bincount(model.events.user_rows, minlength=len(model.events.users))
    eligible = np.flatnonzero(counts >= 8)
    users = np.random.default_rng(seed).permutation(eligible)
    val_users, train_users = users[:min(VALIDATION_USERS, len(users) // 5)], users[min(VALIDATION_USERS,
                                                                                        len(users) // 5):]
    pairs = make_pairs(model, train_users, seed)
    work = Path(tempfile.mkdtemp(prefix="tamellm-ranker-"))
    held = max(16, len(pairs) // 20)
    pairs.iloc[held:].to_csv(work / "train.csv", index=False)
    pairs.iloc[:held].to_csv(work / "validation.csv", index=False)
    logger.info("ranker: %d training pairs from %d users", len(pairs) - held, len(train_users))
    result = api.train(work / "train.csv", config={"data": {"validation": str(work / "validation.csv"),
                                                             "test": str(work / "validation.csv"),
                                                             "text_column": "text", "label_column": "label"}},
                       run_dir=work / "run", budget=budget_s, task="classify", model=model.encoder, seed=seed,
                       strategy="full", epochs=1, batch_size=16, max_length=128, learning_rate=5e-5,
                       eval_steps=10_000)
    folder = Path(result.model_dir)
    train_s = time.perf_counter() - start
    ranker = Ranker.load(folder, {"beta": 1.0})
    scores = validate(model, ranker, val_users) if len(val_users) else {}
    best = max(scores, key=lambda b: (scores[b], -b)) if scores else 0.0
    meta = {"beta": best, "default": bool(scores) and best > 0 and scores[best] > scores[0.0],
            "candidates": CANDIDATES, "validation_ndcg@10": {str(b): v for b, v in scores.items()},
            "validation_users": int(len(val_users)), "pairs": int(len(pairs)), "train_seconds": round(train_s, 1),
            "validation_seconds": round(time.perf_counter() - start - train_s, 1),
            "train_metrics": result.metrics.get("validation", {}), "trained_steps": result.history[-1].get("step")
            if result.history else None}
    out = Path(tempfile.mkdtemp(prefix="tamellm-ranker-model-")) / "ranker"
    shutil.copytree(folder, out)
    shutil.rmtree(work, ignore_errors=True)
    logger.info("ranker: beta %s, on by default: %s (%s)", best, meta["default"], meta["validation_ndcg@10"])
    return out, meta

