"""Faithfulness of an explanation: the ERASER measures (DeYoung et al. 2020).

For the explained label and each k in {1, 5, 10, 20, 50} % of the words:
- comprehensiveness = p(label | text) − p(label | text without its top-k words): high
  when the words the method ranks first are the ones the model needs;
- sufficiency = p(label | text) − p(label | only its top-k words): low when those words
  alone are enough.
AOPC averages each over the bins. Removed words become [MASK] (or pad), keeping the
positions, so the perturbed inputs of all bins run as one batch. Rankings are from the
highest score down (a positive score pushes toward the label); at least one word is
taken per bin.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field

import numpy as np
import torch

from tamellm.explanations.core import explain_target
from tamellm.explanations.target import Target, build_target

log = logging.getLogger(__name__)
BINS = (0.01, 0.05, 0.10, 0.20, 0.50)


@dataclass
class Faithfulness:
    """ERASER scores of one method over a set of texts (means over texts)."""

    method: str
    comprehensiveness: float
    sufficiency: float
    texts: int
    seconds_per_text: float
    per_bin: dict[str, dict[str, float]] = field(default_factory=dict)

    def to_dict(self) -> dict:
        """A JSON-ready dict."""
        return {"method": self.method, "comprehensiveness": round(self.comprehensiveness, 4),
                "sufficiency": round(self.sufficiency, 4), "texts": self.texts,
                "seconds_per_text": round(self.seconds_per_text, 4), "per_bin": self.per_bin}


def erase_scores(target: Target, scores: np.ndarray, output: int, bins=BINS) -> tuple[np.ndarray, np.ndarray]:
    """Comprehensiveness and sufficiency per bin for one text, from its word scores."""
    n = target.n_words
    order = np.argsort(-np.asarray(scores), kind="stable")
    rows = []
    for fraction in bins:
        top = order[:max(1, math.ceil(fraction * n))]
        removed = torch.ones(n)
        removed[top] = 0.0
        kept = 1.0 - removed
        rows += [removed, kept]
    presence = torch.stack([torch.ones(n), *rows])
    probs = target.forward_presence(presence)[:, output].numpy()
    full = probs[0]
    return full - probs[1::2], full - probs[2::2]


def evaluate_method(model, texts: list[str], method: str, targets: list[Target] | None = None,
                    bins=BINS, target_options: dict | None = None, **options: object) -> Faithfulness:
    """ERASER comprehensiveness / sufficiency (AOPC) of ``method`` on ``texts`` for the predicted labels."""
    targets = targets or [build_target(model, t, **(target_options or {})) for t in texts]
    comp, suff, seconds = [], [], 0.0
    for target in targets:
        start = time.perf_counter()
        explanation = explain_target(target, method, **options)
        seconds += time.perf_counter() - start
        output = target.outputs.index(explanation.label)
        c, s = erase_scores(target, np.array([w.score for w in explanation.words]), output, bins)
        comp.append(c)
        suff.append(s)
    comp_arr, suff_arr = np.array(comp), np.array(suff)
    per_bin = {f"{int(b * 100)}%": {"comprehensiveness": round(float(comp_arr[:, i].mean()), 4),
                                    "sufficiency": round(float(suff_arr[:, i].mean()), 4)}
               for i, b in enumerate(bins)}
    return Faithfulness(method, float(comp_arr.mean()), float(suff_arr.mean()), len(targets),
                        seconds / max(1, len(targets)), per_bin)


def compare_methods(model, texts: list[str], methods: list[str] | None = None,
                    options: dict[str, dict] | None = None, **target_options: object) -> list[Faithfulness]:
    """Every applicable method (and the random baseline) on the same texts, best first.

    Ranked by comprehensiveness − sufficiency (higher is better). The targets are built
    once and shared, so every method sees the same inputs.
    """
    from tamellm.explanations.base import applicable_methods

    targets = [build_target(model, t, **target_options) for t in texts]
    names = methods or applicable_methods(targets[0])
    if "random" not in names:
        names = [*names, "random"]
    results = []
    for name in names:
        for target in targets:
            target._cache.clear()  # each method pays for its own forward passes
        results.append(evaluate_method(model, texts, name, targets, **(options or {}).get(name, {})))
        log.info("%s: comprehensiveness %.3f sufficiency %.3f", name, results[-1].comprehensiveness,
                 results[-1].sufficiency)
    return sorted(results, key=lambda r: -(r.comprehensiveness - r.sufficiency))
