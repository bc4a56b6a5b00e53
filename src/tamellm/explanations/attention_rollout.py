"""Attention rollout (Abnar & Zuidema 2020): attention flow from the output tokens to the input.

Hand-written because captum has no rollout: per layer, the heads' mean attention plus
the residual connection (0.5·A + 0.5·I, rows renormalised), multiplied layer by layer;
a word's score is the rolled-out attention that the output positions (the [CLS] token
for a classifier) pay to its tokens. Scores are positive and the same for every class:
rollout says what the model looked at, not in which direction it pushed.
"""

from __future__ import annotations

import numpy as np
import torch

from tamellm.explanations.base import Explainer, register
from tamellm.explanations.target import ATTENTION, Target
from tamellm.explanations.words import merge_scores


def rollout(attentions: tuple[torch.Tensor, ...]) -> torch.Tensor:
    """``[T, T]`` rolled-out attention from per-layer ``[1, H, T, T]`` attentions."""
    size = attentions[0].shape[-1]
    eye = torch.eye(size)
    result = eye
    for layer in attentions:
        mixed = 0.5 * layer[0].mean(0) + 0.5 * eye
        mixed = mixed / mixed.sum(-1, keepdim=True)
        result = mixed @ result
    return result


@register("attention_rollout")
class AttentionRollout(Explainer):
    """Rolled-out attention from the output positions to each word (unsigned)."""

    requires = ATTENTION
    signed = False
    description = "attention rollout (unsigned: what the model looked at)"

    def attribute(self, target: Target, outputs: list[int]) -> np.ndarray:
        """The same word scores for every output (computed once)."""
        flow = rollout(target.attentions(target.input_ids))[target.rollout_queries].mean(0)
        scores = merge_scores(flow.numpy(), target.words)
        return np.stack([scores for _ in outputs])
