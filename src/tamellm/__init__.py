"""tamellm: language models made easy, offline first.

The one-line functions are imported lazily so that ``import tamellm`` (and the CLI's
``--help``) stays fast; the heavy libraries load on first use.
"""

from __future__ import annotations

import importlib
import os
import sys
import types

__version__ = "0.1.0"

# Offline first: no hub call unless the user allows network explicitly.
if os.environ.get("TAMELLM_ALLOW_NETWORK", "").lower() not in {"1", "true", "yes"}:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

# Public name -> the module that defines it. Imported on first use, so ``import tamellm`` stays light.
_EXPORTS = {
    **dict.fromkeys(
        ["chat", "classify", "compare_explainers", "compress", "doctor", "embed", "evaluate", "explain", "generate",
         "global_explanation", "inspect_data", "list_models", "load", "ner", "predict", "report", "runs",
         "sample_data", "similarity", "summarize", "train", "transcribe", "tune"], "tamellm.api"),
    "create_app": "tamellm.serve", "serve": "tamellm.serve",  # the HTTP service sits on top of the API
    "TamellmError": "tamellm.errors",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'tamellm' has no attribute {name!r}")


class _CallableSubpackage(types.ModuleType):
    """A sub-package that shares its name with an API function (``tamellm.train``, ``tamellm.explain``...).

    Importing ``tamellm.train`` binds the package on ``tamellm``, which would hide the
    function ``tamellm.train(...)`` served by ``__getattr__``. Calling the package calls the
    function instead, so both ``tamellm.train(data)`` and ``from tamellm.train import ...`` work.
    """

    def __call__(self, *args, **kwargs):
        name = self.__name__.rpartition(".")[2]
        return getattr(importlib.import_module(_EXPORTS[name]), name)(*args, **kwargs)


class _Package(types.ModuleType):
    def __setattr__(self, name: str, value: object) -> None:
        if name in __all__ and type(value) is types.ModuleType:
            value.__class__ = _CallableSubpackage
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
