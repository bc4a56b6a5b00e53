"""Fitting a recommender: item vectors, every source, fusion weights chosen on each user's latest events."""

from __future__ import annotations

import logging
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tamellm.apps.recommend import store
from tamellm.apps.recommend.data import read_interactions, read_items
from tamellm.apps.recommend.dataset import Catalog, Events, temporal_split
from tamellm.apps.recommend.encoder import DEFAULT_ENCODER
from tamellm.apps.recommend.encoder import item_vectors as embed_items
from tamellm.apps.recommend.fusion import choose_weights, standardize
from tamellm.apps.recommend.model import DEFAULT_SOURCES, RecModel, cold_neighbours, fit_arrays

logger = logging.getLogger(__name__)
VALIDATION_HOLDOUT = 2  # each user's last 2 training events choose the fusion weights
VALIDATION_USERS = 3000  # enough users to choose 4 weights; bounds memory on large data sets


@dataclass
class BuildResult:
    """What ``build_recommender`` wrote and how long it took."""

    folder: Path
    report: dict
    weights: dict[str, float]
    seconds: float

    def to_dict(self) -> dict:
        return {"folder": str(self.folder), "report": self.report, "weights": self.weights,
                "seconds": round(self.seconds, 2)}

    def warnings(self) -> list[str]:
        """Problems in the input a user should hear about."""
        out = []
        src = self.report.get("interactions", {})
        if src.get("duplicates_dropped"):
            out.append(f"{src['duplicates_dropped']} duplicate (user, item) interactions: kept the latest of each")
        if src.get("rows_without_user_or_item"):
            out.append(f"{src['rows_without_user_or_item']} interaction rows without a user or item were skipped")
        cat = self.report.get("catalog", {})
        if cat.get("interacted_items_without_text"):
            out.append(f"{cat['interacted_items_without_text']} interacted items have no text (e.g. "
                       f"{', '.join(cat['examples_without_text'])}): used by the collaborative sources only")
        return out


def resolve_encoder(encoder: str | os.PathLike | None) -> str:
    """A catalog name as given, a folder as an absolute path (the recommender may be used from elsewhere)."""
    if encoder is None:
        return DEFAULT_ENCODER
    path = Path(encoder)
    return str(path.resolve()) if path.exists() else str(encoder)


def fusion_weights(events: Events, catalog: Catalog, item_vectors: np.ndarray, seed: int = 0) -> dict:
    """Weights per source that maximise NDCG@10 on each user's last events, with the sources fitted before them."""
    train, val = temporal_split(events, VALIDATION_HOLDOUT)
    if not val.any():
        logger.info("too few events per user to choose fusion weights: every source weighs 1")
        return {"weights": dict.fromkeys(DEFAULT_SOURCES, 1.0), "validation_ndcg@10": None}
    sub = events.subset(train)
    model = RecModel(catalog, sub, fit_arrays(sub, catalog, item_vectors, seed), {}, "",
                     cold_neighbours(sub, catalog, item_vectors))
    rows = np.unique(events.user_rows[val])
    rows = np.random.default_rng(seed).permutation(rows)[:VALIDATION_USERS]
    held = {r: set() for r in rows.tolist()}
    for r, c in zip(events.user_rows[val], events.item_cols[val], strict=True):
        if r in held:
            held[int(r)].add(int(c))
    parts = {n: standardize(s) for n, s in model.source_scores(model.user_query(rows)).items()}
    weights, ndcg = choose_weights(parts, [held[int(r)] for r in rows], model.seen[rows])
    return {"weights": weights, "validation_ndcg@10": ndcg, "validation_users": int(len(rows))}


def fit_model(catalog: Catalog, events: Events, item_vectors: np.ndarray | None = None,
              encoder: str = DEFAULT_ENCODER, seed: int = 0, weights: dict[str, float] | None = None) -> RecModel:
    """A fitted RecModel on ``events``; item vectors are computed unless given, weights chosen unless given."""
    if item_vectors is None:
        item_vectors = embed_items(catalog.texts, encoder)
    meta: dict = {"encoder": encoder, "seed": seed}
    if weights is None:
        chosen = fusion_weights(events, catalog, item_vectors, seed)
        weights = chosen["weights"]
        meta["fusion"] = chosen
    arrays = fit_arrays(events, catalog, item_vectors, seed)
    return RecModel(catalog, events, arrays, dict(weights), encoder, cold_neighbours(events, catalog, item_vectors),
                    meta)


def read_sources(interactions: str | os.PathLike, items: str | os.PathLike | list,
                 encoding: str | None = None) -> tuple[Catalog, Events, dict]:
    """Catalogue, events and the input report from the two kinds of files."""
    data = read_interactions(interactions, encoding=encoding)
    texts = read_items(items, encoding=encoding)
    catalog, cat_report = Catalog.from_sources(data, texts)
    return catalog, Events.from_interactions(data, catalog), {"interactions": data.report, "items": texts.report,
                                                              "catalog": cat_report}


def build_recommender(interactions: str | os.PathLike, items: str | os.PathLike | list, output: str | os.PathLike,
                      encoder: str | os.PathLike | None = None, seed: int = 0, ranker: bool = False,
                      ranker_budget: float = 90.0, encoding: str | None = None) -> BuildResult:
    """Read the files, fit every stage and write the recommender folder ``output`` atomically.

    ``ranker=True`` also fine-tunes the language-model ranker (see ``ranker.py``) within
    ``ranker_budget`` seconds of training.
    """
    start = time.perf_counter()
    store.check_target(output)
    catalog, events, report = read_sources(interactions, items, encoding)
    model = fit_model(catalog, events, encoder=resolve_encoder(encoder), seed=seed)
    model.meta["source"] = report
    ranker_dir = None
    if ranker:
        from tamellm.apps.recommend.ranker import train_ranker

        ranker_dir, ranker_meta = train_ranker(model, budget_s=ranker_budget, seed=seed)
        model.meta["ranker"] = ranker_meta
    try:
        folder = store.save(model, output, ranker_dir=ranker_dir)
    finally:
        if ranker_dir is not None:  # the temporary folder the ranker was trained into
            shutil.rmtree(ranker_dir.parent, ignore_errors=True)
    return BuildResult(folder, report, model.weights, time.perf_counter() - start)
