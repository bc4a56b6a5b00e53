"""The explainer registry: a method name maps to a class; adding a method is adding a file.

An ``Explainer`` turns a ``Target`` (one text on one model, see ``target.py``) into a
score per word for each requested output. ``requires`` names what it needs from the
target (gradients, attentions, or only the ability to re-run the model on perturbed
inputs), so an unsupported model/method pair is refused with the methods that apply.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from tamellm.errors import InputError
from tamellm.explanations.target import Target
from tamellm.registry import Registry

EXPLAINERS: Registry[type[Explainer]] = Registry("explainers", "explanation method", name_attr="name")
register = EXPLAINERS.register


class Explainer:
    """Scores each word of a target's text toward some of its outputs."""

    name: ClassVar[str] = ""
    requires: ClassVar[str] = ""  # a Target capability: gradients, attention, perturbation
    signed: ClassVar[bool] = True  # False when scores carry no direction (attention rollout)
    description: ClassVar[str] = ""

    def __init__(self, **options: object) -> None:
        self.options = options

    def attribute(self, target: Target, outputs: list[int]) -> np.ndarray:
        """Word scores ``[len(outputs), n_words]``; positive pushes toward that output."""
        return np.stack([self.attribute_one(target, o) for o in outputs])

    def attribute_one(self, target: Target, output: int) -> np.ndarray:
        """Word scores ``[n_words]`` toward one output."""
        raise NotImplementedError


def method_names() -> list[str]:
    """Every registered method name."""
    return sorted(EXPLAINERS)


def applicable_methods(target: Target) -> list[str]:
    """The methods that can explain this target (by its capabilities)."""
    return [n for n in sorted(EXPLAINERS) if EXPLAINERS[n].requires in target.capabilities]


def get_explainer(name: str, target: Target | None = None, **options: object) -> Explainer:
    """An explainer by name, checked against the target when given."""
    cls = EXPLAINERS[name]
    if target is not None and cls.requires not in target.capabilities:
        raise InputError(f"Method '{name}' does not apply to this {target.task} model (it needs {cls.requires})",
                         f"methods that apply: {', '.join(applicable_methods(target))}")
    return cls(**options)
