"""tamellm: language models made easy, offline first.

The one-line functions are imported lazily so that ``import tamellm`` (and the CLI's
``--help``) stays fast; the heavy libraries load on first use.
"""

from __future__ import annotations

import os

__version__ = "0.1.0"

# Offline first: no hub call unless the user allows network explicitly.
if os.environ.get("TAMELLM_ALLOW_NETWORK", "").lower() not in {"1", "true", "yes"}:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

__all__ = [
    "chat", "classify", "doctor", "embed", "generate", "list_models", "load", "ner", "similarity", "summarize",
    "transcribe", "TamellmError", "compress",
]


def __getattr__(name: str):
    if name == "TamellmError":
        from tamellm.errors import TamellmError

        return TamellmError
    if name in __all__:
        from tamellm import api

        return getattr(api, name)
    raise AttributeError(f"module 'tamellm' has no attribute {name!r}")
