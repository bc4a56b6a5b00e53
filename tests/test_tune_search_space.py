"""The AutoTune search space, asked by real Optuna trials on real splits."""

from __future__ import annotations

import optuna
import pandas as pd
import pytest

from tamellm.config import config_from_dict
from tamellm.data import load_splits
from tamellm.errors import ConfigError
from tamellm.tuning.job import job_config
from tamellm.tuning.search_space import STRATEGY_SPACES, build_search_space

optuna.logging.set_verbosity(optuna.logging.WARNING)


def _splits(tmp_path, counts: dict[str, int]):
    rows = [{"text": f"example {label} number {i}", "label": label} for label, n in counts.items() for i in range(n)]
    path = tmp_path / "train.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    return load_splits(path, seed=0)


def _ask(space, n: int = 30, seed: int = 0) -> list[dict]:
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=seed))
    out = []
    for _ in range(n):
        trial = study.ask()
        out.append(space.suggest(trial))
        study.tell(trial, 0.5)
    return out


def test_small_balanced_data_searches_few_shot_and_lora_knobs(tmp_path):
    config = config_from_dict({"task": "classify"})
    space = build_search_space(config, _splits(tmp_path, {"pos": 40, "neg": 40}))
    assert space.strategies == ["head-only", "lora", "full", "few-shot"]
    assert not space.search_class_weights and space.fixed["class_weights"] == "none"
    samples = _ask(space, 60)
    assert {p["strategy"] for p in samples} == set(space.strategies)
    for params in samples:
        lora_keys = {"lora_r", "lora_alpha", "lora_dropout"}
        assert lora_keys <= params.keys() if params["strategy"] == "lora" else not lora_keys & params.keys()
        assert 0 < params["learning_rate"] < 1 and params["epochs"] >= 1 and params["batch_size"] in (8, 16, 32)
    assert len({p["lora_r"] for p in samples if "lora_r" in p}) > 1


def test_large_imbalanced_data_searches_class_weights_not_few_shot(tmp_path):
    space = build_search_space(config_from_dict({}), _splits(tmp_path, {"pos": 160, "neg": 40}))
    assert "few-shot" not in space.strategies
    assert space.search_class_weights
    assert {p["class_weights"] for p in _ask(space, 30)} == {"none", "balanced"}


def test_user_values_are_fixed_and_win_over_the_search(tmp_path):
    config = job_config(strategy="lora", learning_rate=2e-4, epochs=2, class_weights="balanced")
    space = build_search_space(config, _splits(tmp_path, {"a": 100, "b": 100}))
    assert space.strategies == ["lora"]
    for params in _ask(space, 10):
        assert params["strategy"] == "lora" and params["learning_rate"] == 2e-4 and params["epochs"] == 2
        assert params["class_weights"] == "balanced" and "lora_r" in params


def test_every_strategy_has_a_space_and_generation_searches_peft():
    assert set(STRATEGY_SPACES) == {"full", "lora", "prompt-tuning", "prefix-tuning", "head-only", "few-shot"}
    space = build_search_space(config_from_dict({"task": "generate"}))
    samples = _ask(space, 20)
    assert {p["strategy"] for p in samples} == {"lora", "prompt-tuning"}
    assert all("num_virtual_tokens" in p for p in samples if p["strategy"] == "prompt-tuning")


def test_unknown_setting_names_the_nearest_key():
    with pytest.raises(ConfigError, match="Did you mean 'learning_rate'"):
        job_config(learnin_rate=1e-3)
