"""Gradient × input on the embedding layer (captum ``LayerGradientXActivation``).

One forward and one backward pass per output: the cheapest gradient method, and a
first-order approximation of integrated gradients with a zero baseline. It explains
the log-odds of a class (where the target offers them), not its probability: the
gradient of a probability close to 0 or 1 vanishes, and with it the explanation.
"""

from __future__ import annotations

import numpy as np
import torch

from tamellm.explanations.base import Explainer, register
from tamellm.explanations.target import GRADIENTS, Target
from tamellm.explanations.words import merge_scores


@register("gradient_x_input")
class GradientXInput(Explainer):
    """Embedding · d(output)/d(embedding), summed over the hidden size."""

    requires = GRADIENTS
    description = "gradient × input on the embedding layer (captum)"

    def attribute_one(self, target: Target, output: int) -> np.ndarray:
        """Word scores toward one output."""
        from captum.attr import LayerGradientXActivation

        forward = target.forward_logits or target.forward_ids
        method = LayerGradientXActivation(forward, target.embedding, multiply_by_inputs=True)
        with torch.enable_grad():
            attributions = method.attribute(target.input_ids, target=output)
        return merge_scores(attributions.sum(-1)[0].detach().float().numpy(), target.words)
