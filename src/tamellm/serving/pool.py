"""The models a server process serves, by name, and which tasks each one answers."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from tamellm.errors import InputError, TamellmError
from tamellm.serving.errors import APIError
from tamellm.tasks import BackendNotApplicable, TaskModel, load, task_spec

log = logging.getLogger("tamellm.serving")


@dataclass
class ServedModel:
    """One loaded model: its name, what it was loaded from, and a TaskModel per task it serves."""

    name: str
    source: str
    tasks: dict[str, TaskModel] = field(default_factory=dict)

    @property
    def main_task(self) -> str:
        return next(iter(self.tasks))


class ModelPool:
    """Loads each model once through ``tamellm.tasks.load`` and finds the model for a request."""

    def __init__(self, sources: list[str], backend: str = "transformers") -> None:
        self.models: dict[str, ServedModel] = {}
        self.aliases: dict[str, str] = {}
        for source in sources:
            main = self._load_main(source, backend)
            served = ServedModel(main.name, str(source), {main.task: main})
            # An encoder (or a fine-tuned encoder) also embeds and classifies zero-shot.
            for task in task_spec(main.task).also_serves:
                try:
                    served.tasks[task] = load(source, task=task)
                except InputError:  # e.g. a spaCy NER pipeline has no encoder to embed with
                    continue
            if served.name in self.models:
                log.warning("model '%s' given twice; serving it once", served.name)
                continue
            self.models[served.name] = served
            self.aliases[str(source)] = served.name
            log.info("loaded model '%s' (%s) serving %s", served.name, source, ", ".join(served.tasks))

    @staticmethod
    def _load_main(source: str, backend: str) -> TaskModel:
        """The model on ``backend`` where that backend runs it (see tasks/backends.py), else on transformers.

        ``auto`` (the default) serves fine-tuned classifiers and embedding encoders on onnxruntime
        (their own fp32 weights, exported once; ~1.8x the throughput on CPU), Llama/Qwen-architecture chat models on
        onnxruntime-genai (``tamellm.load``'s own default) and falls back to transformers, with a
        warning, when an export fails; a backend named explicitly fails loudly instead.
        """
        if backend == "transformers":
            return load(source, backend="transformers")
        try:
            return load(source, backend="onnxruntime" if backend == "auto" else backend)
        except BackendNotApplicable as exc:
            log.info("model %s stays on transformers: %s", source, exc)
        except TamellmError as exc:
            if backend != "auto":
                raise
            log.warning("model %s: no onnxruntime export (%s); serving it on transformers", source, exc)
        return load(source)

    def serving(self, task: str) -> list[ServedModel]:
        """The models that serve ``task``."""
        return [m for m in self.models.values() if task in m.tasks]

    def get(self, tasks: tuple[str, ...], name: str | None, what: str) -> tuple[ServedModel, TaskModel]:
        """The model called ``name`` (or the first that fits) and its TaskModel for the first fitting task.

        No ``tasks``: the model's own task (the first model served when no name is given).
        Unknown name -> 404; a model that cannot do ``what`` -> 400; none loaded for it -> 400.
        """
        if name:
            key = self.aliases.get(name, name)
            if key not in self.models:
                raise APIError(
                    404,
                    f"The model '{name}' is not served here; served: {', '.join(self.models)}",
                    "model_not_found",
                    param="model",
                )
            candidates = [self.models[key]]
        else:
            # The first model of the preferred task: a fine-tuned classifier before a zero-shot encoder.
            candidates = ([m for t in tasks for m in self.models.values() if t in m.tasks] if tasks
                          else list(self.models.values()))
            if not candidates:
                raise APIError(
                    400,
                    f"No model served here can do {what}; served: "
                    + ", ".join(f"{m.name} ({m.main_task})" for m in self.models.values()),
                    "unsupported_task",
                    param="model",
                )
        served = candidates[0]
        for task in tasks or (served.main_task,):
            if task in served.tasks:
                return served, served.tasks[task]
        raise APIError(
            400,
            f"The model '{served.name}' cannot do {what}; it serves: {', '.join(served.tasks)}",
            "unsupported_task",
            param="model",
        )
