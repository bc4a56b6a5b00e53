"""AutoTune searches augmentation only when asked, only for strategies that encode the texts in every trial,
and a plain trial runs first; the searched value reaches the trainer (a real tiny tune)."""

from __future__ import annotations

import json

import optuna
import pandas as pd
import pytest
from test_tune_search_space import _ask

from tamellm.config import config_from_dict
from tamellm.data import load_splits
from tamellm.errors import ConfigError
from tamellm.tuning.autotune import autotune, warm_start
from tamellm.tuning.job import job_config
from tamellm.tuning.search_space import AUGMENT_STRATEGIES, build_search_space

optuna.logging.set_verbosity(optuna.logging.WARNING)
GOOD = ["great phone", "I love this restaurant", "the food is wonderful", "a wonderful film", "lovely quiet hotel"]
BAD = ["awful soup", "the service was terrible", "boring and far too long", "a terrible phone", "cold rude staff"]


@pytest.fixture
def reviews(tmp_path):
    rows = [{"review": t, "label": "positive"} for t in GOOD * 4]
    rows += [{"review": t, "label": "negative"} for t in BAD * 4]
    path = tmp_path / "reviews.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def test_augmentation_is_searched_only_when_asked_and_never_for_head_only(reviews):
    config = config_from_dict({"task": "classify"})
    splits = load_splits(reviews, seed=0)
    plain = build_search_space(config, splits)
    assert not plain.search_augment and all("augment" not in p for p in _ask(plain, 40))
    space = build_search_space(config, splits, search_augment=True)
    assert space.search_augment and space.to_dict()["search_augment"] is True
    assert any("not for head-only" in note for note in space.notes)
    samples = _ask(space, 80)
    head_only = [p for p in samples if p["strategy"] == "head-only"]
    others = [p for p in samples if p["strategy"] != "head-only"]
    assert head_only and all("augment" not in p and "augment_ratio" not in p for p in head_only)
    assert {p["augment"] for p in others} == {"none", "eda", "perturb"}
    for p in others:
        assert p["strategy"] in AUGMENT_STRATEGIES
        assert ("augment_ratio" in p) == (p["augment"] != "none")
        assert p.get("augment_ratio", 0.5) >= 0.25 and p.get("augment_ratio", 0.5) <= 1.0
    # the first trials are plain: augmentation is chosen only when a trial measures that it helps
    first = warm_start(space)
    assert first and all(p.get("augment") == "none" for p in first if p.get("strategy") != "head-only")
    assert all("augment" not in p for p in first if p.get("strategy") == "head-only")
    assert all("augment" not in p for p in warm_start(plain))


def test_augmentation_search_is_refused_for_a_task_it_cannot_augment():
    with pytest.raises(ConfigError, match="text classification only"):
        build_search_space(config_from_dict({"task": "ner"}), None, search_augment=True)


def test_the_searched_augmentation_reaches_the_trainer(tmp_path, reviews, tiny_bert_dir, monkeypatch):
    monkeypatch.setenv("TAMELLM_TRACKING", "0")
    config = job_config(reviews, model=str(tiny_bert_dir), strategy="full", epochs=1, batch_size=8, max_length=16,
                        seed=0)
    result = autotune(config, trials=3, tune_dir=tmp_path / "tune", search_augment=True)
    hpo = json.loads((tmp_path / "tune" / "hpo.json").read_text())
    searched = [t["params"]["augment"] for t in hpo["trials"]]
    assert searched[0] == "none" and len(searched) == 3 and set(searched) - {"none"}
    for t in hpo["trials"]:  # each trial trained with the augmentation the search chose for it
        used = json.loads((tmp_path / "tune" / "trials" / f"{t['number']:03d}" / "params.json").read_text())
        assert used["augment"] == t["params"]["augment"]
        if used["augment"] != "none":
            assert used["augment_ratio"] == pytest.approx(t["params"]["augment_ratio"])
    assert result.best_params["augment"] in {"none", "eda", "perturb"}
