"""What every task adapter provides to the one training loop."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any, ClassVar

import torch

from tamellm.registry import Registry


class TaskAdapter:
    """Turns a task's data into features, builds its model, computes its loss and metrics.

    ``splits`` maps split names to frames (or NER sentence lists); the adapter keeps
    what it needs (label map, columns) for ``manifest``.
    """

    task: ClassVar[str] = ""
    peft_task_type: ClassVar[str] = ""
    auto_class: ClassVar[str] = "AutoModel"
    sequence_labels: ClassVar[bool] = False  # labels are per token (padded with -100), not per example

    def __init__(self, splits: Any, options: dict) -> None:
        self.splits = splits
        self.options = options

    multi_label: bool = False

    @classmethod
    def load_splits(cls, config: Any) -> Any:
        """Read, check and split ``config.data``'s files into ``Splits`` for this task."""
        raise NotImplementedError

    @property
    def primary(self) -> tuple[str, str]:
        """(metric name, "max" | "min") watched by early stopping and tuning: the task's, from its TaskSpec."""
        from tamellm.tasks import TASKS

        spec = next(s for s in TASKS.values() if s.adapter == self.task)
        return spec.metric(self.multi_label)

    def texts_for_length(self, split: str) -> list[Any]:
        """What to tokenize to pick ``max_length`` (texts or word lists)."""
        raise NotImplementedError

    def token_lengths(self, tokenizer: Any) -> list[int]:
        """Token counts of the training examples (special tokens included)."""
        raise NotImplementedError

    def features(self, tokenizer: Any, max_length: int, eval_max_length: int | None = None) -> dict[str, list[dict]]:
        """Per split, one dict per example: input_ids, attention_mask, labels (lists or numbers).

        Training rows are cut at ``max_length``; validation and test at ``eval_max_length``
        (default the same): the chosen length bounds training cost, and evaluation should read
        texts as ``predict`` does, at the model's limit.
        """
        return {name: self.split_features(tokenizer, name, max_length if name == "train"
                                          else eval_max_length or max_length)
                for name in self.split_names()}

    def split_names(self) -> list[str]:
        """The splits this adapter holds (train, and validation / test when given)."""
        raise NotImplementedError

    def split_features(self, tokenizer: Any, split: str, max_length: int) -> list[dict]:
        """The features of one split (see ``features``)."""
        raise NotImplementedError

    def build_model(self, base: Path, sentence_pooling: bool = False) -> torch.nn.Module:
        """The model to train, built from the base model folder.

        ``sentence_pooling``: the strategy reads sentence embeddings (head-only, few-shot); tasks
        with a sentence-level head may then pool as the base was trained to (see models/mean_pooling.py).
        """
        import transformers

        cls = getattr(transformers, self.auto_class)
        return cls.from_pretrained(base, use_safetensors=True, **self.model_kwargs())

    def prepare_tokenizer(self, tokenizer: Any, model: torch.nn.Module) -> None:
        """Adjust the tokenizer to the model (e.g. a pad token for causal LMs); nothing by default."""

    def model_kwargs(self) -> dict:
        """Extra keyword arguments for ``from_pretrained`` (labels, problem type)."""
        return {}

    def loss(self, model: torch.nn.Module, batch: dict) -> torch.Tensor:
        """The training loss of one batch."""
        return model(**batch).loss

    def evaluate(self, model: torch.nn.Module, batches: Iterable[dict]) -> dict:
        """Metrics (task metrics plus ``loss``) over the batches of one split."""
        raise NotImplementedError

    def manifest(self) -> dict:
        """What tamellm.json records about the task (labels, primary metric)."""
        return {"task": self.task, "primary_metric": self.primary[0]}


# A TaskSpec names its adapter (``adapter="classify"``); the adapter learns that name as ``task``.
ADAPTERS: Registry[type[TaskAdapter]] = Registry("task_adapters", "training adapter", name_attr="task")
register = ADAPTERS.register


def fill_missing_splits(frames: dict[str, Any], config: Any, notes: list[str] | None = None) -> Any:
    """``Splits`` from ``frames``: a validation or test part the config names no file for is cut from train."""
    from tamellm.data import Splits, split

    data, notes = config.data, list(notes or [])
    want_val = data.val_size if "validation" not in frames else 0.0
    want_test = data.test_size if "test" not in frames else 0.0
    if want_val or want_test:
        cut = split(frames["train"], None, val_size=want_val, test_size=want_test, seed=config.seed)
        frames["train"] = cut.train
        frames.setdefault("validation", cut.validation)
        frames.setdefault("test", cut.test)
        notes += cut.notes
    return Splits(frames["train"], frames.get("validation"), frames.get("test"), notes=notes)
