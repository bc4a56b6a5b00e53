"""The HTTP service: OpenAI-compatible and task endpoints, micro-batching, API keys, limits, metrics.

It sits on top of the public API (``tamellm.api``) and the applications; ``tamellm.create_app``
and ``tamellm.serving`` are the two functions below.
"""

from __future__ import annotations

import os
from typing import Any

from tamellm.serving.app import build_app
from tamellm.serving.server import run

__all__ = ["build_app", "create_app", "run", "serve"]


def create_app(models: list[str], **settings: Any) -> Any:
    """Build the FastAPI app serving ``models`` (catalog names or folders); ``settings`` are ServeConfig keys.

    OpenAI-compatible routes (/v1/models, /v1/chat/completions, /v1/completions, /v1/embeddings),
    task routes (/v1/classify, /v1/ner, /v1/summarize, /v1/explain, /v1/predict), /healthz, /readyz, /metrics.
    """
    return build_app(list(models), settings)


def serve(models: list[str], host: str = "127.0.0.1", port: int = 8000, workers: int = 1,
          api_key_file: str | os.PathLike | None = None, **settings: Any) -> None:
    """Serve ``models`` over HTTP with uvicorn until SIGTERM/SIGINT (blocking); see ``create_app``."""
    run(list(models), host=host, port=port, workers=workers, api_key_file=api_key_file, **settings)
