"""Explanations for every prediction: attributions, faithfulness, global view, rendering.

    >>> import tamellm
    >>> tamellm.explain("a gripping, funny film", model="path/to/classifier").top(3)

Layout: ``target.py`` (+ ``targets/``, one module per task) turns a text and a model
into functions an attribution method can call; ``base.py`` is the method registry, one
file per method (``integrated_gradients``, ``gradient_x_input``, ``attention_rollout``,
``occlusion``, ``lime``, ``kernel_shap``, ``random``); ``words.py`` merges sub-word
pieces into words; ``faithfulness.py`` scores methods with the ERASER measures;
``global_view.py`` gives the words that push each class across a dataset and a
surrogate logistic regression; ``render_html.py`` / ``render_terminal.py`` draw them.

Default method: integrated gradients (captum, pad-token baseline, 16 steps) for every
differentiable model; occlusion (leave-one-out) for models without gradients (spaCy).
Why, with the numbers (bench/results/explain_faithfulness.md and explain_speed.md;
200 SST-2 dev sentences, the fine-tuned MiniLM of bench/fixtures.py, 2 shared CPU cores):

| method | comprehensiveness ↑ | sufficiency ↓ | s at 64 tokens |
|---|---|---|---|
| lime (200 samples) | 0.402 | 0.021 | 3.33 |
| kernel_shap (200 samples) | 0.387 | 0.023 | 2.82 |
| integrated_gradients (16 steps) | 0.360 | 0.034 | 0.53 |
| occlusion | 0.364 | 0.046 | 1.03 |
| attention_rollout | 0.098 | 0.221 | 0.06 |
| gradient_x_input | 0.064 | 0.265 | 0.10 |
| random | 0.076 | 0.263 | 0.04 |

LIME and Kernel SHAP measure best, by a few points, at 5-6x the cost of integrated
gradients; integrated gradients ties occlusion on faithfulness at half its cost, and
is the only one of the four near the 0.3 s goal. Gradient x input and attention
rollout are no better than random here. 16 steps lose nothing against captum's 50
(0.359 / 0.034 on the same 200 sentences), while captum's default settings (50 steps,
one batch) took 3.9 s at 64 tokens in the same run.
"""

from tamellm.explanations import (  # noqa: F401 - each method module registers itself in EXPLAINERS
    attention_rollout,
    gradient_x_input,
    integrated_gradients,
    kernel_shap,
    lime,
    occlusion,
    random_baseline,
    targets,  # one module per task: each registers its Target builder in TARGETS
)
from tamellm.explanations.base import EXPLAINERS, applicable_methods, get_explainer, method_names, register
from tamellm.explanations.core import DEFAULT_METHOD, explain, explain_target
from tamellm.explanations.results import Explanation, WordScore
from tamellm.explanations.target import Target, build_target

__all__ = ["DEFAULT_METHOD", "EXPLAINERS", "Explanation", "Target", "WordScore", "applicable_methods",
           "build_target", "explain", "explain_target", "get_explainer", "method_names", "register"]

