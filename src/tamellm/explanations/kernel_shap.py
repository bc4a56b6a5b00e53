"""Kernel SHAP over words (captum ``KernelShap``): Shapley values estimated from word removals.

Like LIME but with the Shapley kernel, so the scores approximate each word's Shapley
value and add up to output(text) − output(no words). ``n_samples`` defaults to 200.
"""

from __future__ import annotations

import numpy as np
import torch

from tamellm.explanations.base import Explainer, register
from tamellm.explanations.target import PERTURB, Target

N_SAMPLES = 200


@register("kernel_shap")
class KernelShap(Explainer):
    """Shapley values by weighted linear regression (Lundberg & Lee 2017)."""

    requires = PERTURB
    description = "Kernel SHAP: Shapley values from random word removals (captum)"

    def attribute_one(self, target: Target, output: int) -> np.ndarray:
        """Word scores toward one output."""
        from captum.attr import KernelShap as CaptumKernelShap

        torch.manual_seed(int(self.options.get("seed", 0)))
        method = CaptumKernelShap(target.forward_presence)
        scores = method.attribute(torch.ones(1, target.n_words), baselines=0.0, target=output,
                                  n_samples=int(self.options.get("n_samples", N_SAMPLES)),
                                  perturbations_per_eval=target.batch_size)
        return scores[0].float().numpy()
