"""``TaskModel``: a loaded model serving one task; ``predict`` is the task's main call."""

from __future__ import annotations

from typing import Any, ClassVar

from tamellm.models.loaders import LoadedModel


class TaskModel:
    """A loaded model serving one task. ``predict`` is the task's main call."""

    task: ClassVar[str] = ""  # set by register_task
    # The explanation target (explain/target.py TARGETS) built for this class; None: not explainable.
    explain_target: ClassVar[str | None] = None
    explain_hint: ClassVar[str | None] = None  # why not, and what to do instead, when there is no target

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
        """Explain this model's prediction for ``text`` (see ``tamellm.explanations.explain``)."""
        from tamellm.explanations import explain

        if isinstance(text, str):
            return explain(self, text, **options)
        return [explain(self, one, **dict(options)) for one in text]

    def info(self) -> dict:
        """What this model is: name, task, kind, where it was loaded from."""
        resolved = self.loaded.resolved
        return {"name": resolved.name, "task": self.task, "kind": resolved.kind, "path": str(resolved.path)}

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r} task={self.task!r}>"
