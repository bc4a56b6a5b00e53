"""The recommender's language-model ranker: time-respecting training pairs, a short real fine-tune, re-ranking."""

from __future__ import annotations

import json

import numpy as np
import pytest
from test_apps_recommend import make_data

from tamellm.apps.recommend import Recommender, build_recommender
from tamellm.apps.recommend.build import fit_model, read_sources
from tamellm.apps.recommend.ranker import YES, make_pairs
from tamellm.errors import InputError


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return make_data(tmp_path_factory.mktemp("rankdata"))


def test_training_pairs_only_read_the_past(data):
    catalog, events, _ = read_sources(*data)
    model = fit_model(catalog, events)
    row = model.user_index["100"]
    pairs = make_pairs(model, np.array([row]), seed=0)
    chosen = [catalog.titles[c] for c in events.history(row)]
    positives = pairs[pairs["label"] == YES]["text"].tolist()
    assert len(positives) == 3 and (pairs["label"] != YES).sum() >= 6  # 3 targets, 2-3 negatives each
    for text in positives:
        history, candidate = text.split(". Candidate: ")
        target = next(t for t in chosen if candidate.startswith(t))
        before = chosen[: chosen.index(target)]
        named = [t for t in chosen if t in history]
        assert target not in named and set(named) <= set(before)  # nothing from the target's future
    for text in pairs[pairs["label"] != YES]["text"]:
        candidate = text.split(". Candidate: ")[1]
        assert not any(candidate.startswith(t + ".") for t in chosen)  # negatives: never chosen by the user


def test_build_with_ranker_measures_it_and_reranks(tmp_path, data):
    out = tmp_path / "rec"
    build_recommender(data[0], data[1], out, ranker=True, ranker_budget=5)
    meta = json.loads((out / "recommender.json").read_text())["meta"]["ranker"]
    assert (out / "ranker").is_dir()
    assert set(meta["validation_ndcg@10"]) >= {"0.0", "1.0"} and isinstance(meta["default"], bool)
    assert meta["default"] == (meta["beta"] > 0)
    with_ranker = Recommender.load(out, ranker=True)
    assert with_ranker.ranker is not None
    fused = Recommender.load(out, ranker=False).recommend(user="100", k=5, reasons=False)
    ranked = with_ranker.recommend(user="100", k=5, reasons=False)
    assert len(ranked.items) == 5
    model = with_ranker.model
    seen = {model.catalog.ids[c] for c in model.events.history(model.user_index["100"])}
    assert not seen & {r.item for r in ranked.items}
    # The ranker re-orders the fused top 20: what it returns comes from there
    pool = {r.item for r in Recommender.load(out, ranker=False).recommend(user="100", k=20, reasons=False).items}
    assert {r.item for r in ranked.items} <= pool and len(fused.items) == 5


def test_asking_for_a_ranker_that_was_not_built_is_an_error(tmp_path, data):
    out = tmp_path / "plain"
    build_recommender(data[0], data[1], out)
    with pytest.raises(InputError, match="no language-model ranker"):
        Recommender.load(out, ranker=True)
