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

Default method: integrated gradients (captum, 16 steps, pad-token baseline); occlusion
for models without gradients (spaCy). See DEFAULT_CHOICE below for the numbers.
"""

import sys
import types

from tamellm.explain.base import EXPLAINERS, applicable_methods, get_explainer, method_names, register
from tamellm.explain.core import DEFAULT_METHOD, explain, explain_target
from tamellm.explain.results import Explanation, WordScore
from tamellm.explain.target import Target, build_target

DEFAULT_CHOICE = """(filled in from bench/results/explain_faithfulness.md once measured)"""

__all__ = ["DEFAULT_METHOD", "EXPLAINERS", "Explanation", "Target", "WordScore", "applicable_methods",
           "build_target", "explain", "explain_target", "get_explainer", "method_names", "register"]


class _CallableModule(types.ModuleType):
    """``tamellm.explain(...)`` must stay the API function even after this package is imported
    (importing a submodule binds its name on the parent package, shadowing ``tamellm.__getattr__``)."""

    def __call__(self, *args, **kwargs):
        from tamellm.api import explain as api_explain

        return api_explain(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
