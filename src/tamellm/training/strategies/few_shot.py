"""Few-shot (≤ 64 examples per class), in the SetFit manner, on the same data and model folder.

1. Contrastive phase: sentence pairs drawn from the training examples (same label -> 1,
   different -> 0) tune the encoder so that the cosine similarity of their pooled
   embeddings matches the target (SetFit's CosineSimilarityLoss).
2. Head phase: the encoder is frozen; the head starts from scikit-learn's logistic
   regression on the tuned embeddings (SetFit's head) and the one training loop refines it.

The embedding is the very vector the classification head reads: for a sentence-transformers
base (the packaged MiniLM) the mean-pooled, normalised token states, as SetFit uses
(models/mean_pooling.py); for other bases the encoder's pooled output. Either way the
saved folder loads with transformers' AutoModelForSequenceClassification. Written by hand
rather than with the ``setfit`` package: it is not a dependency, and this keeps the
result a standard model folder.
"""

from __future__ import annotations

import logging
import random
from collections import defaultdict
from functools import partial
from typing import Any

import torch

from tamellm.training.collate import collate
from tamellm.training.resources import TrainResources, fingerprint
from tamellm.training.strategies.base import Strategy, register
from tamellm.training.strategies.linear_head import (
    drop_cached_embeddings,
    fit_linear_head,
    frozen_embedder,
    sentence_embedding,
    use_cached_embeddings,
)

logger = logging.getLogger(__name__)
PAIRS_PER_EXAMPLE = 20  # SetFit's default num_iterations
PAIR_BATCH = 16
CONTRASTIVE_LR = 2e-5
MAX_PER_CLASS = 64


def make_pairs(labels: list[Any], seed: int, per_example: int = PAIRS_PER_EXAMPLE) -> list[tuple[int, int, float]]:
    """(i, j, 1.0 | 0.0) pairs: for each example, ``per_example`` / 2 positives and as many negatives."""
    rng = random.Random(seed)
    by_label: dict[Any, list[int]] = defaultdict(list)
    for i, label in enumerate(labels):
        by_label[label].append(i)
    pairs = []
    for i, label in enumerate(labels):
        same = [j for j in by_label[label] if j != i]
        other = [j for k, members in by_label.items() if k != label for j in members]
        for _ in range(per_example // 2):
            if same:
                pairs.append((i, rng.choice(same), 1.0))
            if other:
                pairs.append((i, rng.choice(other), 0.0))
    rng.shuffle(pairs)
    return pairs


@register("few-shot")
class FewShot(Strategy):
    """Contrastive pair tuning of the encoder, then the head alone on the frozen, tuned encoder."""

    default_learning_rate = 1e-2
    tasks = ("classify",)
    sentence_pooling = True


    def apply(self, model: torch.nn.Module, adapter: Any) -> torch.nn.Module:
        if getattr(adapter, "multi_label", False):
            logger.warning("few-shot pairs use whole label sets for multi-label data")
        labels = [str(x) for x in adapter.labels["train"]]
        biggest = max(labels.count(x) for x in set(labels))
        if biggest > MAX_PER_CLASS:
            logger.warning("few-shot is meant for <= %d examples per class (found %d): consider full or lora",
                           MAX_PER_CLASS, biggest)
        features = adapter.split_features(adapter.tokenizer, "train", adapter.max_length)
        pad_id = adapter.tokenizer.pad_token_id or 0
        seed = int(self.params.get("seed", 0))
        resources = self.resources or TrainResources(shared=False)
        # The contrastive phase depends on none of the searched knobs: one per study, its encoder reused.
        key = ("few-shot", self.base_key or f"model-{id(model)}", type(model).__name__, seed,
               fingerprint([f["input_ids"] for f in features], labels), CONTRASTIVE_LR, PAIRS_PER_EXAMPLE, PAIR_BATCH)
        state = resources.memo(key, lambda: self._contrastive(model, features, labels, pad_id, seed))
        encoder = model.base_model
        encoder.load_state_dict(state)
        for param in encoder.parameters():
            param.requires_grad_(False)
        cached = use_cached_embeddings(model, resources.embeddings, key)
        if not getattr(adapter, "multi_label", False):
            plain = frozen_embedder(model)
            fit_linear_head(model, features, pad_id,
                            embed=partial(resources.embeddings.embed, key, plain) if cached else plain)
        return model

    def export(self, model: torch.nn.Module) -> torch.nn.Module:
        return drop_cached_embeddings(model)

    @staticmethod
    def _contrastive(model: torch.nn.Module, features: list[dict], labels: list[str], pad_id: int,
                     seed: int) -> dict[str, torch.Tensor]:
        """Tune the encoder on seeded pairs; return a copy of its weights."""
        encoder = model.base_model
        optimizer = torch.optim.AdamW(encoder.parameters(), lr=CONTRASTIVE_LR)
        pairs = make_pairs(labels, seed)
        encoder.train()
        for start in range(0, len(pairs), PAIR_BATCH):
            chunk = pairs[start:start + PAIR_BATCH]
            left = collate([{k: v for k, v in features[i].items() if k != "labels"} for i, _, _ in chunk], pad_id,
                           False)
            right = collate([{k: v for k, v in features[j].items() if k != "labels"} for _, j, _ in chunk], pad_id,
                            False)
            target = torch.tensor([t for _, _, t in chunk])
            similarity = torch.nn.functional.cosine_similarity(sentence_embedding(model, left),
                                                               sentence_embedding(model, right))
            loss = torch.nn.functional.mse_loss(similarity, target)
            loss.backward()
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
        logger.info("few-shot: contrastive phase on %d pairs done", len(pairs))
        return {k: v.detach().clone() for k, v in encoder.state_dict().items()}
