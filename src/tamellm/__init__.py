"""tamellm: language models made easy, offline first.

The public names are imported lazily so that ``import tamellm`` (and the CLI's
``--help``) stays fast; the heavy libraries load on first use.
"""

from __future__ import annotations

import importlib
import os

__version__ = "0.1.0"

# Offline first: no hub call unless the user allows network explicitly.
if os.environ.get("TAMELLM_ALLOW_NETWORK", "").lower() not in {"1", "true", "yes"}:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

# Public name -> the module that defines it. No sub-package shares a public function's name
# (``tamellm.train`` is a function, ``tamellm.training`` the package), so nothing hides them.
_EXPORTS = {
    **dict.fromkeys(
        ["chat", "classify", "compare_explainers", "compress", "doctor", "embed", "evaluate", "explain", "generate",
         "global_explanation", "inspect_data", "list_models", "load", "ner", "predict", "report", "runs",
         "sample_data", "similarity", "summarize", "train", "transcribe", "tune"], "tamellm.api"),
    "robustness": "tamellm.api", "advise": "tamellm.api",
    **dict.fromkeys(["read_file", "read_files", "classify_files", "ner_files", "embed_files", "summarize_files",
                     "explain_files", "classify_images", "explain_image", "compress_image_model", "train_fusion"],
                    "tamellm.api"),
    "create_app": "tamellm.serving", "serve": "tamellm.serving",  # the HTTP service sits on top of the API
    "TamellmError": "tamellm.errors",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'tamellm' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
