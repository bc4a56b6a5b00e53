"""Training parameters: one typed object resolved from config.train, flat overrides and per-strategy defaults."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from tamellm.config import TamellmConfig
from tamellm.errors import ConfigError, did_you_mean
from tamellm.tasks import task_spec
from tamellm.training.strategies import STRATEGIES

FLAT_KEYS = ("strategy", "learning_rate", "epochs", "batch_size", "max_length", "warmup_ratio", "weight_decay",
             "scheduler", "class_weights", "gradient_accumulation", "max_grad_norm", "early_stopping_patience",
             "lora_r", "lora_alpha", "lora_dropout", "num_virtual_tokens", "eval_steps",
             "augment", "augment_ratio", "adversarial", "epsilon", "adversarial_steps")
DEFAULT_EPOCHS = 3.0
DEFAULT_BATCH = 32
DEFAULT_VIRTUAL_TOKENS = 20
EVAL_BATCH_SIZE = 64


@dataclass(frozen=True)
class TrainParams:
    """Every knob of one training run, resolved and checked (what the loop, strategy and adapter read).

    ``max_length`` None means "choose from the data"; the trainer replaces it with the
    chosen length (``dataclasses.replace``) before training starts.
    """

    strategy: str
    learning_rate: float
    epochs: float
    batch_size: int
    max_length: int | None = None
    gradient_accumulation: int = 1
    warmup_ratio: float = 0.06
    scheduler: str = "linear"
    weight_decay: float = 0.01
    max_grad_norm: float = 1.0
    early_stopping_patience: int = 3
    class_weights: str = "auto"
    lora_r: int = 8
    lora_alpha: int = 16
    lora_dropout: float = 0.1
    num_virtual_tokens: int = DEFAULT_VIRTUAL_TOKENS
    eval_steps: int | None = None
    seed: int = 0
    eval_batch_size: int = EVAL_BATCH_SIZE
    augment: str = "none"  # training/augment.py AUGMENTERS: "eda", "perturb"
    augment_ratio: float = 0.5  # augmented rows per training row
    adversarial: str = "none"  # training/adversarial.py ADVERSARIES: "fgm", "pgd"
    epsilon: float = 1.0  # L2 bound of the embedding perturbation, per example
    adversarial_steps: int = 3  # PGD's ascent steps

    def as_dict(self) -> dict[str, Any]:
        """The params as a plain dict (params.json, trackers, strategies and adapters that read by name)."""
        return dataclasses.asdict(self)

    def replace(self, **changes: Any) -> TrainParams:
        """A copy with ``changes`` applied."""
        return dataclasses.replace(self, **changes)


def auto_strategy(task: str) -> str:
    """The strategy "auto" means when training directly (the tuner searches instead): the task's default."""
    return task_spec(task).default_strategy


def _check_keys(params: dict) -> None:
    unknown = [k for k in params if k not in FLAT_KEYS]
    if unknown:
        raise ConfigError(f"unknown training parameter '{unknown[0]}'.{did_you_mean(unknown[0], list(FLAT_KEYS))}",
                          "accepted: " + ", ".join(FLAT_KEYS))


def resolve_params(config: TamellmConfig, params: dict | None = None) -> TrainParams:
    """The run's TrainParams: ``params`` (flat keys) > ``config.train`` > defaults for the strategy."""
    _check_keys(params or {})
    overrides = {k: v for k, v in (params or {}).items() if v is not None}
    train = config.train
    chosen: dict[str, Any] = {k: getattr(train, k) for k in type(train).model_fields if k != "lora"}
    chosen.update(lora_r=train.lora.r, lora_alpha=train.lora.alpha, lora_dropout=train.lora.dropout)
    chosen.update(overrides)
    name = auto_strategy(config.task) if chosen["strategy"] == "auto" else chosen["strategy"]
    strategy = STRATEGIES.get(name)
    if strategy is None:
        raise ConfigError(f"strategy '{name}' is not available", "available: " + ", ".join(sorted(STRATEGIES)))
    if config.task not in strategy.tasks:
        raise ConfigError(f"strategy '{strategy.name}' cannot train task '{config.task}'",
                          "it trains: " + ", ".join(strategy.tasks))
    if chosen["scheduler"] not in ("linear", "cosine", "constant"):
        raise ConfigError(f"scheduler '{chosen['scheduler']}' is not known", "accepted: linear, cosine, constant")
    if chosen["class_weights"] not in ("auto", "none", "balanced"):
        raise ConfigError(f"class_weights '{chosen['class_weights']}' is not known",
                          "accepted: auto, none, balanced")
    return TrainParams(
        strategy=name, learning_rate=float(chosen["learning_rate"] or strategy.default_learning_rate),
        epochs=float(chosen["epochs"] or DEFAULT_EPOCHS), batch_size=int(chosen["batch_size"] or DEFAULT_BATCH),
        max_length=None if chosen["max_length"] is None else int(chosen["max_length"]),
        gradient_accumulation=int(chosen["gradient_accumulation"]), warmup_ratio=float(chosen["warmup_ratio"]),
        scheduler=chosen["scheduler"], weight_decay=float(chosen["weight_decay"]),
        max_grad_norm=float(chosen["max_grad_norm"]), early_stopping_patience=int(chosen["early_stopping_patience"]),
        class_weights=chosen["class_weights"], lora_r=int(chosen["lora_r"]), lora_alpha=int(chosen["lora_alpha"]),
        lora_dropout=float(chosen["lora_dropout"]),
        num_virtual_tokens=int(chosen.get("num_virtual_tokens") or DEFAULT_VIRTUAL_TOKENS),
        eval_steps=None if chosen.get("eval_steps") is None else int(chosen["eval_steps"]), seed=config.seed,
        **_robust_training(chosen))


def _robust_training(chosen: dict) -> dict:
    """augment / adversarial knobs (absent from config.train: flat keys or defaults), names checked."""
    from tamellm.training.adversarial import ADVERSARIES
    from tamellm.training.augment import AUGMENTERS

    out = {"augment": str(chosen.get("augment") or "none"), "augment_ratio": float(chosen.get("augment_ratio", 0.5)),
           "adversarial": str(chosen.get("adversarial") or "none"), "epsilon": float(chosen.get("epsilon", 1.0)),
           "adversarial_steps": int(chosen.get("adversarial_steps", 3))}
    for key, table in (("augment", AUGMENTERS), ("adversarial", ADVERSARIES)):
        if out[key] != "none" and out[key] not in table:
            raise ConfigError(f"{key} '{out[key]}' is not known.{did_you_mean(out[key], table.names())}",
                              "accepted: none, " + ", ".join(table.names()))
    if out["augment_ratio"] < 0 or out["epsilon"] <= 0 or out["adversarial_steps"] < 1:
        raise ConfigError("augment_ratio must be >= 0, epsilon > 0 and adversarial_steps >= 1",
                          f"got {out['augment_ratio']}, {out['epsilon']}, {out['adversarial_steps']}")
    return out
