"""Occlusion / leave-one-out: remove one word at a time and watch the output drop.

Uses captum's ``FeatureAblation`` over word presence (each word a feature; removed
words become [MASK] or pad): a word's score is output(text) − output(text without it).
All outputs come from the same batch of perturbed inputs (``Target`` remembers them).
"""

from __future__ import annotations

import numpy as np
import torch

from tamellm.explanations.base import Explainer, register
from tamellm.explanations.target import PERTURB, Target


@register("occlusion")
class Occlusion(Explainer):
    """Leave-one-out over words (captum FeatureAblation)."""

    requires = PERTURB
    description = "leave-one-out: drop of the output when a word is removed"

    def attribute_one(self, target: Target, output: int) -> np.ndarray:
        """Word scores toward one output."""
        from captum.attr import FeatureAblation

        inputs = torch.ones(1, target.n_words)
        method = FeatureAblation(target.forward_presence)
        scores = method.attribute(inputs, baselines=0.0, target=output, perturbations_per_eval=target.batch_size)
        return scores[0].float().numpy()
