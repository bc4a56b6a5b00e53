"""Task adapters, one module per task; ``ADAPTERS`` maps config.task to its class."""

from tamellm.training.task_adapters import classification, instruction, token_classification  # noqa: F401
from tamellm.training.task_adapters.base import ADAPTERS, TaskAdapter, register

__all__ = ["ADAPTERS", "TaskAdapter", "register"]
