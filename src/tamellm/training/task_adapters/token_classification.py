"""Token classification (NER): word tags aligned to word pieces, -100 on every piece but the first."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pandas as pd
import torch

from tamellm.config import TamellmConfig
from tamellm.data import LabelMap, Splits, read_ner
from tamellm.errors import DataError
from tamellm.metrics import ner_metrics
from tamellm.training.collate import IGNORE_INDEX
from tamellm.training.task_adapters.base import TaskAdapter, fill_missing_splits, register


def load_ner_splits(config: TamellmConfig) -> Splits:
    """CoNLL / JSONL-with-spans files as frames with ``tokens`` and ``tags``; missing parts split from train."""
    data = config.data
    frames = {"train": pd.DataFrame(read_ner(data.train))}
    for name in ("validation", "test"):
        path = getattr(data, name)
        if path is not None:
            frames[name] = pd.DataFrame(read_ner(path))
    if frames["train"].empty:
        raise DataError(f"{data.train} holds no sentences", "a CoNLL file needs 'token tag' lines, "
                        "sentences separated by blank lines; JSONL needs text and entities")
    return fill_missing_splits(frames, config, [f"train: {data.train} ({len(frames['train'])} sentences)"])


@register("ner")
class TokenClassificationAdapter(TaskAdapter):
    """One tag per word (IOB2); the first word piece carries the tag, the others are ignored."""

    @classmethod
    def load_splits(cls, config: Any) -> Splits:
        """CoNLL / JSONL-with-spans files (see ``load_ner_splits``)."""
        return load_ner_splits(config)

    peft_task_type = "TOKEN_CLS"
    auto_class = "AutoModelForTokenClassification"
    sequence_labels = True

    def __init__(self, splits: Any, options: dict) -> None:
        super().__init__(splits, options)
        self.sentences = {name: (frame["tokens"].tolist(), frame["tags"].tolist()) for name, frame in splits.items()}
        tags = {t for seq in self.sentences["train"][1] for t in seq} | {"O"}
        # "O" first, then B-/I- pairs by entity type, so ids stay stable across runs.
        self.label_map = LabelMap(sorted(tags, key=lambda t: (t != "O", t[2:], t[:1])))

    def token_lengths(self, tokenizer: Any) -> list[int]:
        words = self.sentences["train"][0]
        return [len(ids) for ids in tokenizer(words, is_split_into_words=True)["input_ids"]]

    def split_names(self) -> list[str]:
        return list(self.sentences)

    def split_features(self, tokenizer: Any, split: str, max_length: int) -> list[dict]:
        if not getattr(tokenizer, "is_fast", False):
            raise DataError("NER training needs a fast tokenizer (word ids)", "use a model with tokenizer.json")
        words, tags = self.sentences[split]
        encoded = tokenizer(words, is_split_into_words=True, truncation=True, max_length=max_length)
        rows = []
        for i, sentence_tags in enumerate(tags):
            labels, previous = [], None
            for word in encoded.word_ids(i):
                tag = sentence_tags[word] if word is not None and word != previous else None
                labels.append(self.label_map.encode(tag) if tag in self.label_map else IGNORE_INDEX)
                previous = word
            keys = [k for k in ("input_ids", "attention_mask", "token_type_ids") if k in encoded]
            rows.append({**{k: encoded[k][i] for k in keys}, "labels": labels})
        return rows

    def model_kwargs(self) -> dict:
        names = self.label_map.names
        return {"num_labels": len(names), "id2label": dict(enumerate(names)),
                "label2id": {x: i for i, x in enumerate(names)}, "ignore_mismatched_sizes": True}

    def loss(self, model: torch.nn.Module, batch: dict) -> torch.Tensor:
        logits = model(**{k: v for k, v in batch.items() if k != "labels"}).logits.float()
        return torch.nn.functional.cross_entropy(logits.flatten(0, 1), batch["labels"].flatten(),
                                                 ignore_index=IGNORE_INDEX)

    @torch.no_grad()
    def evaluate(self, model: torch.nn.Module, batches: Iterable[dict]) -> dict:
        true, pred, losses = [], [], []
        names = self.label_map.names
        for batch in batches:
            logits = model(**{k: v for k, v in batch.items() if k != "labels"}).logits.float()
            labels = batch["labels"]
            losses.append((float(torch.nn.functional.cross_entropy(
                logits.flatten(0, 1), labels.flatten(), ignore_index=IGNORE_INDEX)), len(labels)))
            for row_logits, row_labels in zip(logits.argmax(-1).tolist(), labels.tolist(), strict=True):
                kept = [(p, t) for p, t in zip(row_logits, row_labels, strict=True) if t != IGNORE_INDEX]
                true.append([names[t] for _, t in kept])
                pred.append([names[p] for p, _ in kept])
        metrics = ner_metrics(true, pred)
        metrics["loss"] = sum(v * n for v, n in losses) / max(1, sum(n for _, n in losses))
        return metrics

    def manifest(self) -> dict:
        return {**super().manifest(), "labels": self.label_map.names}
