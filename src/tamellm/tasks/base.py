"""The task registry: a task name (and the kind of model folder) maps to a class.

Adding a task is adding a module with a ``TaskModel`` subclass decorated with
``@register("task-name", kinds=(...))`` and importing it in ``tasks/__init__.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from tamellm.errors import InputError
from tamellm.models.loaders import LoadedModel

TASKS: dict[str, dict[str, type[TaskModel]]] = {}


def register(task: str, kinds: tuple[str, ...]) -> Callable[[type[TaskModel]], type[TaskModel]]:
    """Class decorator: serve ``task`` for model folders of the given kinds."""

    def wrap(cls: type[TaskModel]) -> type[TaskModel]:
        cls.task = task
        for kind in kinds:
            TASKS.setdefault(task, {})[kind] = cls
        return cls

    return wrap


def task_class(task: str, kind: str) -> type[TaskModel]:
    """The class that serves ``task`` on a model of ``kind``."""
    if task not in TASKS:
        raise InputError(f"Unknown task '{task}'", f"known tasks: {', '.join(sorted(TASKS))}")
    by_kind = TASKS[task]
    if kind not in by_kind:
        raise InputError(
            f"Task '{task}' cannot run on a model of kind '{kind}'",
            f"it runs on: {', '.join(sorted(by_kind))}",
        )
    return by_kind[kind]


class TaskModel:
    """A loaded model serving one task. ``predict`` is the task's main call."""

    task: ClassVar[str] = ""

    def __init__(self, loaded: LoadedModel) -> None:
        self.loaded = loaded
        self.model = loaded.model
        self.tokenizer = loaded.tokenizer

    @property
    def name(self) -> str:
        """The model's name (catalog name or folder name)."""
        return self.loaded.resolved.name

    def predict(self, inputs: Any, **options: Any) -> Any:
        """Run the task on ``inputs`` (a text or a list of texts)."""
        raise NotImplementedError

    def explain(self, text: Any, **options: Any) -> Any:
        """Explain this model's prediction for ``text`` (see ``tamellm.api.explain``)."""
        from tamellm.api import explain

        return explain(text, model=self, **options)

    def info(self) -> dict:
        """What this model is: name, task, kind, where it was loaded from."""
        resolved = self.loaded.resolved
        return {"name": resolved.name, "task": self.task, "kind": resolved.kind, "path": str(resolved.path)}

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r} task={self.task!r}>"
