"""Runtimes for a loaded model, by name (a registry).

``tamellm.load(model, backend=NAME)``: "auto" (the default) runs chat models of a
Llama/Qwen/Mistral architecture on "onnxruntime-genai" (``tasks/ort_genai.py``, int8
weights built once) and everything else on "transformers"; "transformers" is the torch
path; "llama.cpp" runs GGUF chat models (``tasks/llama_cpp.py``); "onnxruntime" runs a
fine-tuned classifier's own fp32 weights exported once to ONNX (``tasks/onnx_twin.py``).
A backend is a function ``(resolved, task, explicit) -> TaskModel | None``: None where
it does not apply (``BackendNotApplicable`` instead when it was asked for explicitly).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from tamellm.errors import InputError
from tamellm.models.resolve import ResolvedModel
from tamellm.registry import Registry

ENV = "TAMELLM_GENERATION_BACKEND"  # the backend for every load that does not name one
BackendLoader = Callable[[ResolvedModel, str, bool], Any]
BACKENDS: Registry[BackendLoader] = Registry("backends", "backend")
DEFAULT = "auto"
# What "auto" tries, in order, before transformers (each backend module appends itself).
AUTO_BACKENDS: list[str] = []


class BackendNotApplicable(InputError):
    """The backend asked for explicitly does not run this kind of model."""


@BACKENDS.register("transformers")
def _transformers(resolved: ResolvedModel, task: str, explicit: bool) -> None:
    """The default path: ``load`` builds the task model from the folder's torch weights."""
    return None


@BACKENDS.register(DEFAULT)
def _auto(resolved: ResolvedModel, task: str, explicit: bool) -> Any | None:
    """The first backend of ``AUTO_BACKENDS`` that runs this model, else None (transformers)."""
    for name in AUTO_BACKENDS:
        model = BACKENDS[name](resolved, task, False)
        if model is not None:
            return model
    return None


def chosen_backend(backend: str | None) -> tuple[str, bool]:
    """The backend asked for (argument, else the environment, else auto) and whether it was explicit."""
    name = backend or os.environ.get(ENV) or DEFAULT
    if name not in BACKENDS:
        source = "backend=" if backend else f"${ENV}"
        raise InputError(f"Unknown backend '{name}' ({source})", f"accepted: {', '.join(BACKENDS)}")
    return name, backend is not None


def load_backend(resolved: ResolvedModel, task: str, backend: str | None) -> Any | None:
    """The task model on the chosen backend, or None for the transformers path."""
    name, explicit = chosen_backend(backend)
    return BACKENDS[name](resolved, task, explicit)
