"""Head-only: the encoder is frozen and only the task head trains (a fast CPU baseline)."""

from typing import Any

import torch

from tamellm.training.resources import TrainResources
from tamellm.training.strategies.base import Strategy, register
from tamellm.training.strategies.linear_head import (
    drop_cached_embeddings,
    frozen_key,
    start_head,
    use_cached_embeddings,
)


@register("head-only")
class HeadOnly(Strategy):
    """Freeze ``model.base_model`` except a [CLS] pooler; the head (and that pooler) train.

    On a mean-pooled sentence-transformers base (the packaged MiniLM) the classifier reads
    the mean-pooled embedding the body was trained to produce (``sentence_pooling``). On
    other bases it reads BERT's [CLS] pooler (dense + tanh), which trains with the head:
    a checkpoint without trained pooler weights would otherwise leave the head at chance.
    A single-label classifier's head starts from logistic regression on the frozen
    embeddings (linear_head.py), so even one epoch ends near the head's optimum. With the
    whole encoder frozen (the mean-pooling classifier) each text is embedded once and the
    head trains on the stored vectors, shared by every trial of a study on the same base
    (``resources`` and ``base_key`` are set by the trainer).
    """

    default_learning_rate = 1e-3
    tasks = ("classify", "ner")
    sentence_pooling = True
    # The encoder's embeddings are cached for the study: training again on train + validation takes seconds.
    refits = True


    def apply(self, model: torch.nn.Module, adapter: Any) -> torch.nn.Module:
        for name, param in model.base_model.named_parameters():
            param.requires_grad_("pooler" in name)
        resources = self.resources or TrainResources(shared=False)
        cached = use_cached_embeddings(model, resources.embeddings, frozen_key(model, self.base_key))
        self.head_start = start_head(model, adapter, resources if cached else None, self.base_key,
                                     int(self.params.get("seed", 0)), self.head_deadline())
        return model

    def export(self, model: torch.nn.Module) -> torch.nn.Module:
        return drop_cached_embeddings(model)
