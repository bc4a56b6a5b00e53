"""TrainParams: the one typed object a run's knobs reach the loop in; the tune path validates its config once."""

from __future__ import annotations

import pytest

from tamellm.config import TamellmConfig, config_from_dict
from tamellm.errors import ConfigError
from tamellm.training.params import TrainParams, resolve_params


def test_params_override_config_and_strategy_defaults_fill_the_rest():
    config = config_from_dict({"train": {"epochs": 2, "lora": {"r": 4}}, "seed": 7})
    params = resolve_params(config, {"strategy": "head-only", "batch_size": 16, "learning_rate": None})
    assert isinstance(params, TrainParams)
    assert (params.strategy, params.epochs, params.batch_size, params.lora_r, params.seed) == (
        "head-only", 2.0, 16, 4, 7)
    assert params.learning_rate == 1e-3  # head-only's default
    assert params.max_length is None and params.replace(max_length=64).max_length == 64
    assert params.as_dict()["early_stopping_patience"] == 3


def test_auto_means_full_for_classification_and_lora_for_generation():
    assert resolve_params(TamellmConfig()).strategy == "full"
    assert resolve_params(config_from_dict({"task": "generate"})).strategy == "lora"


def test_unknown_or_incompatible_params_are_config_errors():
    with pytest.raises(ConfigError, match="learning_rat"):
        resolve_params(TamellmConfig(), {"learning_rat": 1e-3})
    with pytest.raises(ConfigError, match="cannot train task 'generate'"):
        resolve_params(config_from_dict({"task": "generate"}), {"strategy": "head-only"})


def test_the_tune_path_validates_its_config_once(monkeypatch, tmp_path):
    import tamellm.api
    import tamellm.tuning
    import tamellm.tuning.job as job

    calls: list = []
    real = job.config_from_dict
    monkeypatch.setattr(job, "config_from_dict", lambda *a, **k: calls.append(1) or real(*a, **k))
    seen: list = []
    monkeypatch.setattr(tamellm.tuning, "autotune", lambda config, **kwargs: seen.append(config))
    config = job.job_config(tmp_path / "data.csv", None, model="minilm-l6", epochs=2)
    tamellm.api.tune(config=config, budget="1m")
    assert len(calls) == 1 and seen == [config]
