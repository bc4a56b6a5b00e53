"""Text classification: single-label (cross-entropy) and multi-label (sigmoid), with class weights."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import torch

from tamellm.data import LabelMap, class_weights
from tamellm.data.clean import empty_text_mask
from tamellm.errors import DataError
from tamellm.metrics import classification_metrics
from tamellm.training.task_adapters.base import TaskAdapter, register

logger = logging.getLogger(__name__)
AUTO_WEIGHT_RATIO = 3.0  # "auto" weights the classes when the largest is this many times the smallest


@register("classify")
class ClassificationAdapter(TaskAdapter):
    """Sequence classification on ``splits.columns`` (text and label columns)."""

    @classmethod
    def load_splits(cls, config: Any) -> Any:
        """Labelled tables: columns inferred, validated (errors stop, warnings are logged), stratified splits."""
        from tamellm.data import load_splits, validate

        data = config.data
        loaded = load_splits(data.train, data.validation, data.test, text_column=data.text_column,
                             label_column=data.label_column, val_size=data.val_size, test_size=data.test_size,
                             seed=config.seed)
        for note in loaded.notes:
            logger.info("%s", note)
        report = validate(loaded, loaded.columns)
        for issue in report.warnings:
            logger.warning("%s", issue)
        report.raise_for_errors()
        loaded.report = report.to_dict()
        return loaded

    peft_task_type = "SEQ_CLS"
    auto_class = "AutoModelForSequenceClassification"

    def __init__(self, splits: Any, options: dict) -> None:
        super().__init__(splits, options)
        self.columns = splits.columns
        if self.columns is None or self.columns.label is None:
            raise DataError("classification needs a label column", "set data.label_column in the config")
        self.multi_label = bool(self.columns.multi_label)
        self.labels: dict[str, list] = {}
        self.texts: dict[str, list[str]] = {}
        for name, frame in splits.items():
            values = self.columns.label_values(frame)
            keep = values.notna().to_numpy() if not self.multi_label else values.map(
                lambda v: isinstance(v, list) and bool(v)).to_numpy(dtype=bool)
            # Rows without a text or a label teach nothing; validate() has already named them in a warning.
            keep = keep & ~empty_text_mask(frame[self.columns.text]).to_numpy(dtype=bool)
            if not keep.all():
                logger.warning("%s: left out %d of %d rows that have no text or no label", name,
                               int((~keep).sum()), len(keep))
            self.texts[name] = frame[self.columns.text].astype(str).to_numpy()[keep].tolist()
            self.labels[name] = values.to_numpy()[keep].tolist()
        self.label_map = LabelMap.from_labels(self.labels["train"])
        self.weights = self._weights(options.get("class_weights", "auto"))

    def _weights(self, mode: str) -> torch.Tensor | None:
        if mode == "none" or self.multi_label:
            return None
        by_label = class_weights(self.labels["train"])
        ratio = max(by_label.values()) / min(by_label.values())
        if mode == "auto" and ratio < AUTO_WEIGHT_RATIO:
            return None
        logger.info("class weights (%s): %s", mode, by_label)
        return torch.tensor([by_label[x] for x in self.label_map.labels], dtype=torch.float)

    def token_lengths(self, tokenizer: Any) -> list[int]:
        return [len(ids) for ids in tokenizer(self.texts["train"], truncation=False)["input_ids"]]

    def _target(self, label: Any) -> Any:
        return self.label_map.multi_hot(label) if self.multi_label else self.label_map.encode(label)

    def split_names(self) -> list[str]:
        return list(self.texts)

    def split_features(self, tokenizer: Any, split: str, max_length: int) -> list[dict]:
        encoded = tokenizer(self.texts[split], truncation=True, max_length=max_length)
        keys = [k for k in ("input_ids", "attention_mask", "token_type_ids") if k in encoded]
        return [{**{k: encoded[k][i] for k in keys}, "labels": self._target(label)}
                for i, label in enumerate(self.labels[split])]

    def build_model(self, base: Path, sentence_pooling: bool = False) -> torch.nn.Module:
        """A mean-pooling classifier when the strategy reads sentence embeddings of a mean-pooled
        sentence-transformers base (its [CLS] pooler is untrained); the Auto class otherwise."""
        from tamellm.models.mean_pooling import build_mean_pooling_classifier
        from tamellm.models.mean_pooling import sentence_pooling as pooling_of

        pooling = pooling_of(Path(base)) if sentence_pooling else None
        if pooling is None:
            return super().build_model(base)
        logger.info("classifier reads the mean-pooled%s sentence embedding of %s",
                    " and normalised" if pooling["normalize"] else "", base)
        return build_mean_pooling_classifier(Path(base), pooling["normalize"], **self.model_kwargs())

    def model_kwargs(self) -> dict:
        return {"num_labels": len(self.label_map), "id2label": {i: str(x) for i, x in self.label_map.id2label.items()},
                "label2id": {str(x): i for x, i in self.label_map.label2id.items()},
                "problem_type": "multi_label_classification" if self.multi_label
                else "single_label_classification", "ignore_mismatched_sizes": True}

    def _logits(self, model: torch.nn.Module, batch: dict) -> torch.Tensor:
        return model(**{k: v for k, v in batch.items() if k != "labels"}).logits.float()

    def _loss(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        if self.multi_label:
            return torch.nn.functional.binary_cross_entropy_with_logits(logits, labels.float())
        return torch.nn.functional.cross_entropy(logits, labels, weight=self.weights)

    def loss(self, model: torch.nn.Module, batch: dict) -> torch.Tensor:
        return self._loss(self._logits(model, batch), batch["labels"])

    @torch.no_grad()
    def evaluate(self, model: torch.nn.Module, batches: Iterable[dict]) -> dict:
        losses, true, pred = [], [], []
        names = self.label_map.names
        for batch in batches:
            logits = self._logits(model, batch)
            losses.append((float(self._loss(logits, batch["labels"])), len(logits)))
            if self.multi_label:
                pred += [[names[j] for j, p in enumerate(row) if p] for row in (logits.sigmoid() >= 0.5).tolist()]
                true += [[names[j] for j, t in enumerate(row) if t] for row in batch["labels"].tolist()]
            else:
                pred += [names[i] for i in logits.argmax(-1).tolist()]
                true += [names[i] for i in batch["labels"].tolist()]
        metrics = classification_metrics(true, pred, names, multi_label=self.multi_label)
        metrics["loss"] = sum(v * n for v, n in losses) / max(1, sum(n for _, n in losses))
        return metrics

    def manifest(self) -> dict:
        return {**super().manifest(), "labels": self.label_map.names, "multi_label": self.multi_label,
                "text_column": self.columns.text, "label_column": self.columns.label}
