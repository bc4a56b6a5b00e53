"""Tasks: one module per task, each registering its classes in ``TASKS``."""

from tamellm.tasks import embed, generate, ner, text_classification, transcribe, zero_shot  # noqa: F401
from tamellm.tasks.base import TASKS, TaskModel, register, task_class

__all__ = ["TASKS", "TaskModel", "register", "task_class"]
