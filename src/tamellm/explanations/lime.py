"""LIME over words (captum ``Lime``): a weighted linear model fitted to random word removals.

Each sample keeps a random subset of words (the rest become [MASK]/pad); samples near
the full text weigh more (captum's exponential cosine kernel); a ridge regression on
word presence gives each word's score. ``n_samples`` defaults to 200, run in batches.
"""

from __future__ import annotations

import numpy as np
import torch

from tamellm.explanations.base import Explainer, register
from tamellm.explanations.target import PERTURB, Target

N_SAMPLES = 200


@register("lime")
class Lime(Explainer):
    """Local linear surrogate over word presence (Ribeiro et al. 2016)."""

    requires = PERTURB
    description = "LIME: ridge regression on random word removals (captum)"

    def attribute_one(self, target: Target, output: int) -> np.ndarray:
        """Word scores toward one output."""
        from captum._utils.models.linear_model import SkLearnRidge
        from captum.attr import Lime as CaptumLime

        # Same seed for every output: the same samples, so the target's cache answers them.
        torch.manual_seed(int(self.options.get("seed", 0)))
        method = CaptumLime(target.forward_presence, interpretable_model=SkLearnRidge(alpha=1.0))
        scores = method.attribute(torch.ones(1, target.n_words), baselines=0.0, target=output,
                                  n_samples=int(self.options.get("n_samples", N_SAMPLES)),
                                  perturbations_per_eval=target.batch_size)
        return scores[0].float().numpy()
