"""Random attributions: the floor every faithfulness score is compared with."""

from __future__ import annotations

import zlib

import numpy as np

from tamellm.explanations.base import Explainer, register
from tamellm.explanations.target import PERTURB, Target


@register("random")
class RandomBaseline(Explainer):
    """Gaussian noise per word, seeded by the text (reproducible)."""

    requires = PERTURB
    description = "random scores (a baseline for faithfulness, not an explanation)"

    def attribute_one(self, target: Target, output: int) -> np.ndarray:
        """Random word scores."""
        seed = zlib.crc32(target.text.encode()) + 7919 * output + int(self.options.get("seed", 0))
        return np.random.default_rng(seed).normal(size=target.n_words)
