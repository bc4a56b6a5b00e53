"""What AutoTune searches: the strategy, then that strategy's hyperparameters (define-by-run).

``STRATEGY_SPACES`` maps a strategy to a function that asks an Optuna trial for its own
knobs (LoRA rank / alpha / dropout, virtual tokens, learning-rate range), so adding a
strategy to the search is adding an entry. The same define-by-run space serves Optuna
directly and Ray Tune through ``OptunaSearch``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tamellm.config import TamellmConfig
from tamellm.errors import ConfigError
from tamellm.registry import Registry
from tamellm.tasks import task_spec
from tamellm.training.base_choice import head_base_candidates

logger = logging.getLogger(__name__)

FEW_SHOT_MAX_PER_CLASS = 64
IMBALANCE_RATIO = 1.5  # largest / smallest class count above which class weights are searched
# Strategies whose every trial runs the encoder over the training texts, so augmented texts cost only their own
# share of a forward pass. head-only is left out: its trials reuse the frozen features cached once per study,
# and augmented rows (new texts, different for each ratio and seed) would have to be encoded again per trial,
# which would make the cheapest trials of a short AutoTune budget the slowest.
AUGMENT_STRATEGIES = ("full", "lora", "prompt-tuning", "prefix-tuning", "few-shot")
AUGMENT_CHOICES = ["none", "eda", "perturb"]  # training/augment.py AUGMENTERS, and none
Suggest = Callable[[Any], dict]


def _lr(trial: Any, low: float, high: float) -> float:
    return trial.suggest_float("learning_rate", low, high, log=True)


def _full(trial: Any) -> dict:
    return {"learning_rate": _lr(trial, 1e-5, 1.5e-4)}


def _lora(trial: Any) -> dict:
    return {
        "learning_rate": _lr(trial, 1e-4, 3e-3),
        "lora_r": trial.suggest_categorical("lora_r", [4, 8, 16, 32]),
        "lora_alpha": trial.suggest_categorical("lora_alpha", [8, 16, 32, 64]),
        "lora_dropout": trial.suggest_float("lora_dropout", 0.0, 0.3),
    }


def _virtual_tokens(trial: Any) -> dict:
    return {
        "learning_rate": _lr(trial, 1e-3, 3e-2),
        "num_virtual_tokens": trial.suggest_categorical("num_virtual_tokens", [8, 16, 32]),
    }


def _head_only(trial: Any) -> dict:
    return {"learning_rate": _lr(trial, 5e-4, 3e-2)}


def _few_shot(trial: Any) -> dict:
    return {"learning_rate": _lr(trial, 1e-5, 1e-4)}


STRATEGY_SPACES: Registry[Suggest] = Registry("search_spaces", "strategy search space")
for _strategy, _suggest in (("full", _full), ("lora", _lora), ("prompt-tuning", _virtual_tokens),
                            ("prefix-tuning", _virtual_tokens), ("head-only", _head_only), ("few-shot", _few_shot)):
    STRATEGY_SPACES.register(_strategy, _suggest)


def _image_head_only(trial: Any) -> dict:
    return {"learning_rate": _lr(trial, 1e-3, 3e-2)}


def _image_full(trial: Any) -> dict:
    # A convolutional network fine-tuned end to end takes larger steps than a transformer encoder
    # (ImageNet fine-tuning recipes use ~1e-4 to 1e-3 with Adam); 1e-5 barely moves it in a short budget.
    return {"learning_rate": _lr(trial, 5e-5, 1e-3)}


# Tasks whose strategies need their own ranges: task -> {strategy: suggest}; other tasks use STRATEGY_SPACES.
TASK_STRATEGY_SPACES: Registry[dict[str, Suggest]] = Registry("task_search_spaces", "task search space")
TASK_STRATEGY_SPACES.register("image-classify", {"head-only": _image_head_only, "full": _image_full})


@dataclass
class SearchSpace:
    """The strategies to try, what stays fixed, and whether imbalance handling is searched."""

    strategies: list[str]
    fixed: dict[str, Any] = field(default_factory=dict)
    search_class_weights: bool = False
    notes: list[str] = field(default_factory=list)
    search_augment: bool = False  # opt-in (--search-augment): augment / augment_ratio for AUGMENT_STRATEGIES
    task: str = "classify"  # picks the task's own ranges from TASK_STRATEGY_SPACES when it has them
    head_bases: list[str] = field(default_factory=list)  # frozen encoders compared by head-only trials

    def suggest(self, trial: Any) -> dict:
        """Ask ``trial`` (an optuna.Trial) for one full set of ``train_model`` params."""
        strategy = (self.strategies[0] if len(self.strategies) == 1
                    else trial.suggest_categorical("strategy", self.strategies))
        params: dict[str, Any] = {"strategy": strategy}
        if strategy == "head-only" and len(self.head_bases) > 1:
            # A frozen encoder costs one embedding pass per study, so head-only can afford a bigger one.
            params["base_model"] = trial.suggest_categorical("base_model", self.head_bases)
        own = TASK_STRATEGY_SPACES.get(self.task) or {}
        params.update((own.get(strategy) or STRATEGY_SPACES[strategy])(trial))
        if "epochs" not in self.fixed:
            params["epochs"] = trial.suggest_int("epochs", 1, 10 if strategy == "few-shot" else 4)
        if "batch_size" not in self.fixed:
            params["batch_size"] = trial.suggest_categorical("batch_size", [8, 16, 32])
        if "warmup_ratio" not in self.fixed:
            params["warmup_ratio"] = trial.suggest_float("warmup_ratio", 0.0, 0.2)
        if "weight_decay" not in self.fixed:
            params["weight_decay"] = trial.suggest_float("weight_decay", 0.0, 0.1)
        if "scheduler" not in self.fixed:
            params["scheduler"] = trial.suggest_categorical("scheduler", ["linear", "cosine"])
        if self.search_class_weights:
            params["class_weights"] = trial.suggest_categorical("class_weights", ["none", "balanced"])
        if self.search_augment and strategy in AUGMENT_STRATEGIES:
            params["augment"] = trial.suggest_categorical("augment", AUGMENT_CHOICES)
            if params["augment"] != "none":
                params["augment_ratio"] = trial.suggest_float("augment_ratio", 0.25, 1.0)
        params.update(self.fixed)  # what the user set wins over the search
        return params

    def to_dict(self) -> dict:
        """A JSON-ready description (written to hpo.json)."""
        return {"strategies": self.strategies, "fixed": self.fixed, "search_class_weights": self.search_class_weights,
                "search_augment": self.search_augment, "task": self.task, "head_bases": self.head_bases,
                "notes": self.notes}


def class_counts(splits: Any) -> dict[str, int]:
    """Examples per class in the training split (multi-label rows count once per label); {} without labels."""
    if splits is None or getattr(splits, "columns", None) is None or splits.columns.label is None:
        return {}
    counts: dict[str, int] = {}
    for value in splits.columns.label_values(splits.train).dropna():
        for label in value if isinstance(value, list) else [value]:
            counts[str(label)] = counts.get(str(label), 0) + 1
    return counts


def build_search_space(config: TamellmConfig, splits: Any = None, search_augment: bool = False,
                       budget_s: float | None = None) -> SearchSpace:
    """The search space for ``config`` and its data: user-set values are fixed, the rest searched.

    The max length is left to the trainer (it picks it from the data) unless the config sets it.
    ``search_augment`` adds augmentation (none / eda / perturb and its ratio) for the strategies in
    ``AUGMENT_STRATEGIES``; it is off by default because the robustness benchmark measured no gain in clean
    accuracy from it (bench/robustness_sst2.py), so a search should spend its budget on it only when asked.
    """
    train, spec = config.train, task_spec(config.task)
    counts = class_counts(splits) if spec.data_schema == "text-label" else {}  # labelled texts: few-shot applies
    notes = []
    if train.strategy != "auto":
        strategies = [train.strategy]
        notes.append(f"strategy fixed to {train.strategy} by the configuration")
    else:
        strategies = list(spec.auto_strategies)
        if counts and max(counts.values()) <= FEW_SHOT_MAX_PER_CLASS:
            strategies.append("few-shot")
            notes.append(f"few-shot searched: at most {max(counts.values())} examples per class "
                         f"(≤ {FEW_SHOT_MAX_PER_CLASS})")
    fixed: dict[str, Any] = {}
    for key in ("learning_rate", "epochs", "batch_size", "max_length"):
        if getattr(train, key) is not None:
            fixed[key] = getattr(train, key)
    for key in ("warmup_ratio", "weight_decay", "scheduler"):
        if key in train.model_fields_set:
            fixed[key] = getattr(train, key)
    if "lora" in train.model_fields_set and strategies == ["lora"]:
        fixed.update(lora_r=train.lora.r, lora_alpha=train.lora.alpha, lora_dropout=train.lora.dropout)
    search_weights = False
    if train.class_weights != "auto":
        fixed["class_weights"] = train.class_weights
    elif counts and min(counts.values()) > 0 and max(counts.values()) / min(counts.values()) > IMBALANCE_RATIO:
        search_weights = True
        notes.append(f"class weights searched: classes range from {min(counts.values())} to "
                     f"{max(counts.values())} examples")
    elif counts:
        fixed["class_weights"] = "none"
    if search_augment:
        if config.task != "classify":
            raise ConfigError(f"augmentation is searched for text classification only, not for '{config.task}'",
                              "drop --search-augment for this task")
        cheap = [s for s in strategies if s in AUGMENT_STRATEGIES]
        notes.append("augmentation searched (none / eda / perturb, ratio 0.25-1) for " + (", ".join(cheap) or "none")
                     + "; not for head-only, whose trials reuse cached features of the unaugmented texts")
    if config.task in TASK_STRATEGY_SPACES:
        notes.append(f"{config.task}: its own learning-rate ranges for " + ", ".join(TASK_STRATEGY_SPACES[config.task]))
    bases = head_base_candidates(config, splits, budget_s) if "head-only" in strategies else []
    if len(bases) > 1:
        notes.append("head-only compares the frozen encoders " + ", ".join(bases) + " (no --model given)")
    logger.info("search space: strategies %s, fixed %s", strategies, fixed)
    return SearchSpace(strategies, fixed, search_weights, notes, search_augment, config.task, bases)

