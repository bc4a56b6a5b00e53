"""Task adapters, one module per task; ``ADAPTERS`` maps config.task to its class."""

from tamellm.training.task_adapters import (  # noqa: F401
    classification,
    fusion,
    image_classification,
    instruction,
    token_classification,
)
from tamellm.training.task_adapters.base import ADAPTERS, TaskAdapter, register

__all__ = ["ADAPTERS", "TaskAdapter", "register"]
