"""What the runs of one study share: base model and tokenizer, tokenized features, frozen embeddings, tracking.

Trials of an AutoTune study differ only in their hyperparameters, so reading the base
model, tokenizing the same texts and embedding them with the same frozen encoder again
in every trial is budget not spent on training. ``TrainResources`` keeps those once per
study; each trial still starts from fresh base weights (a deep copy of a prototype that
is never trained). A single run gets its own resources, which keep nothing beyond it.
"""

from __future__ import annotations

import copy
import hashlib
import json
import logging
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import torch

logger = logging.getLogger(__name__)
T = TypeVar("T")


def fingerprint(*parts: Any) -> str:
    """A short stable hash of JSON-able parts (texts, token ids, labels), for cache keys."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(json.dumps(part, sort_keys=True, default=str).encode("utf-8"))
    return digest.hexdigest()[:16]


class EmbeddingCache:
    """Sentence embeddings of a frozen encoder, one per distinct row of token ids.

    ``key`` names the encoder state (the base model, or the base after a seeded
    contrastive phase); the row's token ids name the text cut at its max length. So a
    text is embedded once per study however many trials and epochs read it.
    """

    def __init__(self) -> None:
        self._store: dict[Hashable, dict[tuple[int, ...], torch.Tensor]] = {}
        self.computed = 0  # rows embedded (tests count them)

    @torch.no_grad()
    def embed(self, key: Hashable, embed_batch: Callable[[dict], torch.Tensor], batch: dict) -> torch.Tensor:
        """The embeddings of ``batch``'s rows; rows not seen under ``key`` go through ``embed_batch`` once."""
        store = self._store.setdefault(key, {})
        ids, mask = batch["input_ids"], batch["attention_mask"]
        rows = [tuple(ids[i][mask[i].bool()].tolist()) for i in range(len(ids))]
        missing = [i for i, row in enumerate(rows) if row not in store]
        if missing:
            index = torch.tensor(missing)
            sub = {k: v[index] for k, v in batch.items() if k != "labels" and isinstance(v, torch.Tensor)}
            vectors = embed_batch(sub).detach()
            for i, vector in zip(missing, vectors, strict=True):
                store[rows[i]] = vector
            self.computed += len(missing)
        return torch.stack([store[row] for row in rows])


@dataclass
class TrainResources:
    """Caches shared by the runs that use this object (one AutoTune study, or one run).

    ``shared`` False (a single run): the base model is handed out as loaded, not copied.
    ``mlflow`` is the study's one MLflow store (``callbacks.MLflowStore``), None for a
    store per run.
    """

    shared: bool = True
    mlflow: Any = None
    embeddings: EmbeddingCache = field(default_factory=EmbeddingCache)
    model_loads: int = 0  # base models read from disk (tests count them)
    _models: dict[Hashable, torch.nn.Module] = field(default_factory=dict)
    _memo: dict[Hashable, Any] = field(default_factory=dict)

    def memo(self, key: Hashable, make: Callable[[], T]) -> T:
        """``make()`` once per ``key``; the same object afterwards (callers must not mutate it)."""
        if key not in self._memo:
            self._memo[key] = make()
        return self._memo[key]

    def tokenizer(self, base: Path) -> Any:
        """The base model's tokenizer (a copy: adapters may set a pad token on it)."""
        from transformers import AutoTokenizer

        loaded = self.memo(("tokenizer", str(base)), lambda: AutoTokenizer.from_pretrained(base))
        return copy.deepcopy(loaded) if self.shared else loaded

    def model(self, adapter: Any, base: Path, sentence_pooling: bool) -> torch.nn.Module:
        """A fresh model to train: the adapter's model of ``base``, read from disk once per key.

        The new task head is initialised from torch's global RNG, so callers seed before
        the first call; later copies carry that same initial head.
        """
        key = ("model", str(base), type(adapter).__name__, sentence_pooling,
               fingerprint(adapter.model_kwargs()))
        prototype = self._models.get(key)
        if prototype is None:
            prototype = adapter.build_model(base, sentence_pooling=sentence_pooling)
            self.model_loads += 1
            if not self.shared:
                return prototype
            self._models[key] = prototype
        return copy.deepcopy(prototype)


def study_resources(tune_dir: Path, tracking: bool) -> TrainResources:
    """Resources for the trials of one study: one MLflow store in ``tune_dir/mlruns`` when tracking is on."""
    resources = TrainResources(shared=True)
    if tracking:
        from tamellm.training.callbacks import MLflowStore

        try:
            resources.mlflow = MLflowStore(tune_dir / "mlruns", experiment=tune_dir.name)
        except Exception as exc:  # tracking is a convenience: the trials run without it
            logger.warning("MLflow store not opened: %s", exc)
    return resources
