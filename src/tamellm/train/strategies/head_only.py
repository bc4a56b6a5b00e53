"""Head-only: the encoder is frozen and only the task head trains (a fast CPU baseline)."""

from typing import Any

import torch

from tamellm.train.strategies.base import Strategy, register


@register("head-only")
class HeadOnly(Strategy):
    """Freeze ``model.base_model`` except its pooler; the pooler and the classifier head train.

    The pooler is the head's input layer (BERT's [CLS] dense + tanh); sentence-transformers
    checkpoints such as MiniLM ship without trained pooler weights, so a frozen random
    pooler would leave the head at chance.
    """

    default_learning_rate = 1e-3
    tasks = ("classify", "ner")

    def apply(self, model: torch.nn.Module, adapter: Any) -> torch.nn.Module:
        for name, param in model.base_model.named_parameters():
            param.requires_grad_("pooler" in name)
        return model
