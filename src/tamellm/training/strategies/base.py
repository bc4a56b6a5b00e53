"""The strategy registry: how much of the model trains, and how it is saved."""

from __future__ import annotations

import time
from typing import Any, ClassVar

import torch

from tamellm.registry import Registry


class Strategy:
    """Decides which parameters train; ``export`` returns the module to save as a plain model."""

    name: ClassVar[str] = ""
    default_learning_rate: ClassVar[float] = 5e-5
    tasks: ClassVar[tuple[str, ...]] = ("classify", "ner", "generate")
    kind: ClassVar[str] = "transformers"  # the model folder's kind in tamellm.json (see models/loaders.py)
    sentence_pooling: ClassVar[bool] = False  # the head reads a sentence embedding (see TaskAdapter.build_model)
    resources: Any = None  # the run's or study's TrainResources (set by the trainer)
    base_key: str | None = None  # the base model's folder (set by the trainer): keys what trials share
    refits: ClassVar[bool] = False  # AutoTune retrains a winning trial on train + validation (cheap to repeat)

    def __init__(self, params: dict) -> None:
        self.params = params
        self.budget_end: float | None = None  # time.monotonic() at which the run's budget ends (set by the trainer)
        # The final model's head as fitted by logistic regression (linear_head.fit_linear_head's record): its
        # cross-validated accuracy ranks frozen-encoder trials whose validation scores tie.
        self.head_start: dict | None = None

    def head_deadline(self, share: float = 0.5) -> float | None:
        """When set-up work that cannot watch the budget (embedding rows for a head's start) should stop:
        after ``share`` of the time left in the budget."""
        if self.budget_end is None:
            return None
        return time.monotonic() + share * max(0.0, self.budget_end - time.monotonic())

    def apply(self, model: torch.nn.Module, adapter: Any) -> torch.nn.Module:
        """Prepare ``model`` for training (freeze, wrap) and return the module to train."""
        return model

    def export(self, model: torch.nn.Module) -> torch.nn.Module:
        """The trained module as a plain transformers model (adapters merged)."""
        return model


STRATEGIES: Registry[type[Strategy]] = Registry("strategies", "training strategy", name_attr="name")
register = STRATEGIES.register  # @register("name") on a Strategy subclass: a config.train.strategy value
