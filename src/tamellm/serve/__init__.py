"""The HTTP service: OpenAI-compatible and task endpoints, micro-batching, API keys, limits, metrics.

``create_app(models, settings)`` builds the FastAPI app; ``run(...)`` serves it with uvicorn.
"""

from tamellm.serve.app import create_app
from tamellm.serve.server import run

__all__ = ["create_app", "run"]
