"""Tasks: one module per task, each registering its classes in ``TASKS``."""

from tamellm.tasks import (  # noqa: F401
    compressed,  # compression backends: int8 / low-rank / pruned folders
    embed,
    generate,
    ner,
    onnx_classifier,  # compression backends: ONNX Runtime
    peft_adapters,  # prompt / prefix tuning folders (base model + peft adapter)
    text_classification,
    transcribe,
    zero_shot,
)
from tamellm.tasks.base import TASKS, TaskModel, register, task_class

__all__ = ["TASKS", "TaskModel", "register", "task_class"]
