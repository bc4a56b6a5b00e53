"""The explainer registry: a method name maps to a class; adding a method is adding a file.

An ``Explainer`` turns a ``Target`` (one text on one model, see ``target.py``) into a
score per word for each requested output. ``requires`` names what it needs from the
target (gradients, attentions, or only the ability to re-run the model on perturbed
inputs), so an unsupported model/method pair is refused with the methods that apply.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

import numpy as np

from tamellm.errors import InputError, did_you_mean
from tamellm.explain.target import Target

EXPLAINERS: dict[str, type[Explainer]] = {}


def register(name: str) -> Callable[[type[Explainer]], type[Explainer]]:
    """Class decorator: make the explainer available under ``name``."""

    def wrap(cls: type[Explainer]) -> type[Explainer]:
        cls.name = name
        EXPLAINERS[name] = cls
        return cls

    return wrap


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


METHOD_MODULES = ["integrated_gradients", "gradient_x_input", "attention_rollout", "occlusion", "lime",
                  "kernel_shap", "random_baseline"]


def _load_methods() -> None:
    import importlib

    for module in METHOD_MODULES:  # one module per method; each registers itself
        importlib.import_module(f"tamellm.explain.{module}")


def method_names() -> list[str]:
    """Every registered method name."""
    _load_methods()
    return sorted(EXPLAINERS)


def applicable_methods(target: Target) -> list[str]:
    """The methods that can explain this target (by its capabilities)."""
    _load_methods()
    return [n for n in sorted(EXPLAINERS) if EXPLAINERS[n].requires in target.capabilities]


def get_explainer(name: str, target: Target | None = None, **options: object) -> Explainer:
    """An explainer by name, checked against the target when given."""
    _load_methods()
    if name not in EXPLAINERS:
        raise InputError(f"Unknown explanation method '{name}'.{did_you_mean(name, EXPLAINERS)}",
                         f"methods: {', '.join(sorted(EXPLAINERS))}")
    cls = EXPLAINERS[name]
    if target is not None and cls.requires not in target.capabilities:
        raise InputError(f"Method '{name}' does not apply to this {target.task} model (it needs {cls.requires})",
                         f"methods that apply: {', '.join(applicable_methods(target))}")
    return cls(**options)
