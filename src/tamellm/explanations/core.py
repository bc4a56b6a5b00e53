"""Explain one text on one loaded model: build the target, run the method, package the result."""

from __future__ import annotations

import logging
import time

import numpy as np

from tamellm.errors import InputError
from tamellm.explanations.base import get_explainer
from tamellm.explanations.results import Explanation, WordScore
from tamellm.explanations.target import Target, build_target

log = logging.getLogger(__name__)
DEFAULT_METHOD = "integrated_gradients"
TARGET_OPTIONS = ("labels", "max_new_tokens")


def default_method(target: Target) -> str:
    """The default method for a target: integrated gradients, or occlusion when not differentiable."""
    return DEFAULT_METHOD if "gradients" in target.capabilities else "occlusion"


def explain_target(target: Target, method: str | None = None, label: str | int | None = None,
                   all_labels: bool = False, **method_options: object) -> Explanation:
    """Explain a built target with ``method`` toward ``label`` (the prediction by default)."""
    start = time.perf_counter()
    if not target.words:
        raise InputError("The text has no words to explain", "pass a text with at least one word")
    name = method or default_method(target)
    explainer = get_explainer(name, target, **method_options)
    chosen = target.output_index(label)
    outputs = list(range(len(target.outputs))) if all_labels else [chosen]
    scores = explainer.attribute(target, outputs)
    per_label = {target.outputs[o]: _word_scores(target, row) for o, row in zip(outputs, scores, strict=True)}
    explanation = Explanation(
        text=target.text, label=target.outputs[chosen], method=name, words=per_label[target.outputs[chosen]],
        per_label=per_label, probabilities=dict(zip(target.outputs, target.probabilities, strict=False)),
        task=target.task, seconds=time.perf_counter() - start, signed=explainer.signed,
        extra={k: v for k, v in target.extra.items() if k == "generated"})
    log.debug("explained %r with %s in %.3f s", target.text[:40], name, explanation.seconds)
    return explanation


def _word_scores(target: Target, row: np.ndarray) -> list[WordScore]:
    return [WordScore(w.text, float(s), w.start, w.end) for w, s in zip(target.words, row, strict=True)]


def explain(task_model, text: str, method: str | None = None, label: str | int | None = None,
            all_labels: bool = False, **options: object) -> Explanation:
    """Explain ``text`` on a loaded task model (``TaskModel``)."""
    target_options = {k: options.pop(k) for k in TARGET_OPTIONS if k in options}
    target = build_target(task_model, text, **target_options)
    explanation = explain_target(target, method, label, all_labels, **options)
    explanation.model = task_model.name
    return explanation
