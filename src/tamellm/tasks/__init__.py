"""Tasks: a ``TaskSpec`` per task (``TASKS``), the ``TaskModel`` classes, and ``load``.

One module per task declares its classes and its spec; importing this package
registers them all. ``load`` (``tasks/loading.py``) is the one way any layer gets a
model for a task.
"""

from tamellm.tasks import (  # noqa: F401 - each module registers its TaskSpec (or backend)
    ctranslate2_backend,
    embed,
    generate,
    image_classification,
    image_text,
    llama_cpp,
    ner,
    onnx_twin,
    ort_genai,
    text_classification,
    transcribe,
    zero_shot,
)
from tamellm.tasks.backends import BACKENDS, BackendNotApplicable
from tamellm.tasks.base import TaskModel
from tamellm.tasks.loading import build_task_model, clear_cache, load, load_for_explanation, load_for_task, read_weights
from tamellm.tasks.spec import TASKS, TaskSpec, register_task, task_spec, trainable_tasks

__all__ = ["BACKENDS", "TASKS", "BackendNotApplicable", "TaskModel", "TaskSpec", "build_task_model", "clear_cache",
           "load", "load_for_explanation", "load_for_task", "read_weights", "register_task", "task_spec",
           "trainable_tasks"]
