"""Offline evaluation: a temporal split (each user's last events held out), every arm in one run, cold items.

Arms: each source alone (``popularity``, ``item_knn``, ``als``, ``content``) and ``tamellm``
(the fused default, with the language-model ranker when the build would keep it on).
Cold start: a seeded sample of items loses all its training events (only its text stays
known); the held-out events on those items are ranked among the cold items alone, which
is the question a new-arrivals shelf asks ("which of the new items will this user pick?").
"""

from __future__ import annotations

import logging
import os
import time

import numpy as np

from tamellm.apps.recommend.build import fit_model, read_sources, resolve_encoder
from tamellm.apps.recommend.dataset import Events, cold_items, temporal_split
from tamellm.apps.recommend.encoder import item_vectors as embed_items
from tamellm.apps.recommend.fusion import ranking_metrics, top_k
from tamellm.apps.recommend.model import DEFAULT_SOURCES, RecModel

logger = logging.getLogger(__name__)
BATCH_USERS = 512


def _relevant(events: Events, mask: np.ndarray) -> tuple[np.ndarray, list[set[int]]]:
    rows = np.unique(events.user_rows[mask])
    held: dict[int, set[int]] = {int(r): set() for r in rows}
    for r, c in zip(events.user_rows[mask], events.item_cols[mask], strict=True):
        held[int(r)].add(int(c))
    return rows, [held[int(r)] for r in rows]


def score_arms(model: RecModel, rows: np.ndarray, relevant: list[set[int]], k: int,
               allowed: np.ndarray | None = None, ranker=None, lm_users: int | None = None,
               seed: int = 0) -> dict[str, dict]:
    """Metrics of every arm for the users ``rows`` (batched: memory stays users x items per batch).

    With ``ranker``, the arms ``tamellm_lm`` (its validation beta) and ``tamellm_lm_beta1`` re-score the
    fused candidates of ``lm_users`` seeded users (all when None; the ranker reads 20 texts per user),
    and ``tamellm_fused_lm_users`` is the fused order on those same users.
    """
    ranked: dict[str, list[np.ndarray]] = {}
    for start in range(0, len(rows), BATCH_USERS):
        batch = rows[start:start + BATCH_USERS]
        query = model.user_query(batch)
        seen = model.seen[batch]
        for name in DEFAULT_SOURCES:
            scores = model.source_scores(query, (name,), impute=False)[name]
            ranked.setdefault(name, []).append(top_k(scores, k, seen, allowed))
        fused, _ = model.fused(query)
        ranked.setdefault("tamellm", []).append(top_k(fused, k, seen, allowed))
    out = {name: ranking_metrics(np.vstack(parts), relevant, k) for name, parts in ranked.items()}
    if ranker is None:
        return out
    pick = np.arange(len(rows))
    if lm_users is not None and lm_users < len(rows):
        pick = np.sort(np.random.default_rng(seed).choice(len(rows), size=lm_users, replace=False))
    arms: dict[str, list[np.ndarray]] = {"tamellm_fused_lm_users": [], "tamellm_lm": [], "tamellm_lm_beta1": []}
    for p in pick:
        row = int(rows[p])
        query = model.user_query(np.array([row]))
        fused, _ = model.fused(query)
        candidates = top_k(fused, max(k, ranker.candidates), model.seen[[row]], allowed)[0]
        logits = ranker.candidate_logits(model, row, None, candidates)
        arms["tamellm_fused_lm_users"].append(candidates[:k])
        for arm, beta in (("tamellm_lm", ranker.beta), ("tamellm_lm_beta1", 1.0)):
            arms[arm].append(ranker.rerank(model, row, None, candidates, fused[0, candidates], beta, logits)[0][:k])
    chosen = [relevant[p] for p in pick]
    out.update({arm: ranking_metrics(np.stack(v), chosen, k) for arm, v in arms.items()})
    return out


def evaluate(interactions: str | os.PathLike, items: str | os.PathLike | list, holdout: int = 5,
             cold_fraction: float = 0.1, k: int = 10, seed: int = 0, encoder: str | os.PathLike | None = None,
             ranker: bool = False, ranker_budget: float = 90.0, encoding: str | None = None,
             lm_users: int | None = None) -> dict:
    """Build on all but each user's last ``holdout`` events and measure every arm; then the cold-start run.

    ``ranker=True`` trains the language-model ranker on the training part and adds the arm
    ``tamellm_lm`` (fused candidates re-scored by it).
    """
    if not 0 < cold_fraction < 1:
        from tamellm.errors import InputError

        raise InputError(f"cold_fraction must be between 0 and 1, got {cold_fraction}", "e.g. 0.1")
    start = time.perf_counter()
    catalog, events, report = read_sources(interactions, items, encoding)
    enc = resolve_encoder(encoder)
    t0 = time.perf_counter()
    item_vectors = embed_items(catalog.texts, enc)
    embed_s = time.perf_counter() - t0
    train, test = temporal_split(events, holdout)
    if not test.any():
        from tamellm.errors import DataError

        raise DataError(f"no user has {2 * holdout} or more interactions to hold {holdout} out",
                        "pass a smaller holdout or more interactions per user")
    t0 = time.perf_counter()
    model = fit_model(catalog, events.subset(train), item_vectors, enc, seed)
    fit_s = time.perf_counter() - t0
    lm = None
    lm_meta = None
    if ranker:
        from tamellm.apps.recommend.ranker import Ranker, train_ranker

        ranker_dir, lm_meta = train_ranker(model, budget_s=ranker_budget, seed=seed)
        lm = Ranker.load(ranker_dir, lm_meta)
    rows, relevant = _relevant(events, test)
    t0 = time.perf_counter()
    results = score_arms(model, rows, relevant, k, ranker=lm, lm_users=lm_users, seed=seed)
    score_s = time.perf_counter() - t0
    if lm is not None and lm_meta.get("default") and lm_users is None:  # the default uses the ranker: so does its arm
        results["tamellm_fused"] = results["tamellm"]
        results["tamellm"] = results["tamellm_lm"]

    if lm is not None:
        import shutil

        shutil.rmtree(ranker_dir.parent, ignore_errors=True)  # the ranker was trained for this run only
    cold = cold_items(events, cold_fraction, seed)
    is_cold = np.isin(events.item_cols, cold)
    cold_test = test & is_cold
    cold_model = fit_model(catalog, events.subset(train & ~is_cold), item_vectors, enc, seed)
    allowed = np.zeros(len(catalog), dtype=bool)
    allowed[cold] = True
    crows, crel = _relevant(events, cold_test)
    cold_results = score_arms(cold_model, crows, crel, k, allowed) if len(crows) else {}
    out = {
        "results": results,
        "cold_start": cold_results,
        "split": {"holdout_per_user": holdout, "train_events": int(train.sum()), "test_events": int(test.sum()),
                  "test_users": int(len(rows)), "items": len(catalog), "k": k, "seed": seed,
                  "cold_fraction": cold_fraction, "cold_items": int(len(cold)),
                  "cold_held_out_events": int(cold_test.sum()), "cold_test_users": int(len(crows))},
        "weights": model.weights,
        "seconds": {"embed_items": round(embed_s, 2), "fit": round(fit_s, 2), "score_test_users": round(score_s, 2),
                    "total": round(time.perf_counter() - start, 2)},
        "encoder": enc,
        "input": report,
    }
    if lm_meta is not None:
        out["ranker"] = lm_meta
    return out
