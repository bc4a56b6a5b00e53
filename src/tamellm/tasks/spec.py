"""A task is one declaration: the ``TaskSpec`` in ``TASKS``, looked up by every layer.

A spec names everything the layers need to know about a task: which ``TaskModel`` class
serves each kind of model folder, the training adapter (``train/task_adapters``), the
evaluator (``evaluate.EVALUATORS``), the data schema (``data/schemas.py``), the metric
early stopping and AutoTune watch, the strategies AutoTune may pick, and the other
tasks a folder of this task can also serve. Implementations that live in higher layers
are named, not imported, so this layer stays below them.
"""

from __future__ import annotations

from dataclasses import dataclass

from tamellm.errors import InputError
from tamellm.registry import Registry
from tamellm.tasks.base import TaskModel


@dataclass(frozen=True)
class TaskSpec:
    """What a task is, for every layer."""

    name: str
    description: str
    models: dict[str, type[TaskModel]]  # model-folder kind -> the class that serves the task on it
    data_schema: str | None = None  # a name in data.schemas.DATA_SCHEMAS: the columns the task reads
    evaluator: str | None = None  # a name in evaluate.EVALUATORS; None: not evaluable on a file
    adapter: str | None = None  # a name in train.task_adapters.ADAPTERS; None: not trainable
    primary_metric: tuple[str, str] | None = None  # (metric, "max" | "min") for early stopping and tuning
    multi_label_metric: tuple[str, str] | None = None  # the same when a classifier is multi-label
    auto_strategies: tuple[str, ...] = ()  # what AutoTune searches
    default_strategy: str = "full"  # what "auto" means for a single run
    also_serves: tuple[str, ...] = ()  # other tasks a folder of this task serves (through its encoder)

    def __post_init__(self) -> None:
        # The model classes learn their task here, so a spec found through an entry point works too.
        for cls in self.models.values():
            cls.task = self.name

    @property
    def trainable(self) -> bool:
        """Whether ``tamellm train`` accepts this task."""
        return self.adapter is not None

    def metric(self, multi_label: bool = False) -> tuple[str, str]:
        """The (metric, direction) this task optimises."""
        chosen = self.multi_label_metric if multi_label and self.multi_label_metric else self.primary_metric
        if chosen is None:
            raise InputError(f"Task '{self.name}' has no metric to optimise", "it cannot be trained or tuned")
        return chosen

    def serves(self) -> set[str]:
        """Every task a folder of this task can serve: itself and ``also_serves``."""
        return {self.name, *self.also_serves}

    def model_class(self, kind: str) -> type[TaskModel]:
        """The class that serves this task on a model folder of ``kind``."""
        if kind not in self.models:
            raise InputError(f"Task '{self.name}' cannot run on a model of kind '{kind}'",
                             f"it runs on: {', '.join(sorted(self.models))}")
        return self.models[kind]


TASKS: Registry[TaskSpec] = Registry("tasks", "task")


def register_task(spec: TaskSpec) -> TaskSpec:
    """Add ``spec`` to ``TASKS`` (a separate package can instead name it in the ``tamellm_tasks`` entry points)."""
    TASKS.register(spec.name, spec)
    return spec


def task_spec(name: str) -> TaskSpec:
    """The spec of task ``name`` (a clear error listing the tasks when unknown)."""
    return TASKS[name]


def trainable_tasks() -> list[str]:
    """The tasks ``tamellm train`` accepts."""
    return [name for name, spec in TASKS.items() if spec.trainable]
