"""Runtimes other than transformers for a loaded model, by name (a registry).

``tamellm.load(model, backend=NAME)``: "transformers" is the default path; "llama.cpp"
runs GGUF chat models (models/llama_backend.py); "onnxruntime" runs a fine-tuned
classifier's own fp32 weights exported once to ONNX (compress/onnx_twin.py). A backend
module is imported on first use, and its ``load_for(resolved, task, explicit)`` returns
the task model, or None where it does not apply (``BackendNotApplicable`` instead when
asked explicitly).
"""

from __future__ import annotations

import importlib
import os
from typing import Any

from tamellm.errors import InputError
from tamellm.models.resolve import ResolvedModel

ENV = "TAMELLM_GENERATION_BACKEND"  # the backend for every load that does not name one
BACKENDS: dict[str, str | None] = {
    "transformers": None,
    "llama.cpp": "tamellm.models.llama_backend",
    "onnxruntime": "tamellm.compress.onnx_twin",
}


class BackendNotApplicable(InputError):
    """The backend asked for explicitly does not run this kind of model."""


def chosen_backend(backend: str | None) -> tuple[str, bool]:
    """The backend asked for (argument, else the environment, else transformers) and whether it was explicit."""
    name = backend or os.environ.get(ENV) or "transformers"
    if name not in BACKENDS:
        source = "backend=" if backend else f"${ENV}"
        raise InputError(f"Unknown backend '{name}' ({source})", f"accepted: {', '.join(BACKENDS)}")
    return name, backend is not None


def load_backend(resolved: ResolvedModel, task: str, backend: str | None) -> Any | None:
    """The task model on the chosen backend, or None for the default (transformers) path."""
    name, explicit = chosen_backend(backend)
    module = BACKENDS[name]
    if module is None:
        return None
    return importlib.import_module(module).load_for(resolved, task, explicit)
