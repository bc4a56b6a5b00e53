"""Training parameters: config.train fields, overridden by a flat params dict, with defaults per strategy."""

from __future__ import annotations

from typing import Any

from tamellm.config import TamellmConfig
from tamellm.errors import ConfigError, did_you_mean
from tamellm.train.strategies import STRATEGIES

FLAT_KEYS = ("strategy", "learning_rate", "epochs", "batch_size", "max_length", "warmup_ratio", "weight_decay",
             "scheduler", "class_weights", "gradient_accumulation", "max_grad_norm", "early_stopping_patience",
             "lora_r", "lora_alpha", "lora_dropout", "num_virtual_tokens", "eval_steps")
DEFAULT_EPOCHS = 3.0
DEFAULT_BATCH = 32
DEFAULT_VIRTUAL_TOKENS = 20


def auto_strategy(task: str) -> str:
    """The strategy "auto" means when training directly (the tuner searches instead)."""
    return "lora" if task == "generate" else "full"


def resolve_params(config: TamellmConfig, params: dict | None) -> dict[str, Any]:
    """One flat dict of every training knob: params > config.train > defaults for the strategy."""
    params = dict(params or {})
    unknown = [k for k in params if k not in FLAT_KEYS]
    if unknown:
        raise ConfigError(f"unknown training parameter '{unknown[0]}'.{did_you_mean(unknown[0], list(FLAT_KEYS))}",
                          "accepted: " + ", ".join(FLAT_KEYS))
    train = config.train
    merged: dict[str, Any] = {k: getattr(train, k) for k in type(train).model_fields if k != "lora"}
    merged.update(lora_r=train.lora.r, lora_alpha=train.lora.alpha, lora_dropout=train.lora.dropout,
                  num_virtual_tokens=DEFAULT_VIRTUAL_TOKENS, eval_steps=None)
    merged.update({k: v for k, v in params.items() if v is not None})
    if merged["strategy"] == "auto":
        merged["strategy"] = auto_strategy(config.task)
    strategy = STRATEGIES.get(merged["strategy"])
    if strategy is None:
        raise ConfigError(f"strategy '{merged['strategy']}' is not available",
                          "available: " + ", ".join(sorted(STRATEGIES)))
    if config.task not in strategy.tasks:
        raise ConfigError(f"strategy '{strategy.name}' cannot train task '{config.task}'",
                          "it trains: " + ", ".join(strategy.tasks))
    merged["learning_rate"] = merged["learning_rate"] or strategy.default_learning_rate
    merged["epochs"] = float(merged["epochs"] or DEFAULT_EPOCHS)
    merged["batch_size"] = int(merged["batch_size"] or DEFAULT_BATCH)
    if merged["scheduler"] not in ("linear", "cosine", "constant"):
        raise ConfigError(f"scheduler '{merged['scheduler']}' is not known", "accepted: linear, cosine, constant")
    if merged["class_weights"] not in ("auto", "none", "balanced"):
        raise ConfigError(f"class_weights '{merged['class_weights']}' is not known",
                          "accepted: auto, none, balanced")
    return merged
