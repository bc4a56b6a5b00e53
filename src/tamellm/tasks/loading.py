"""Loading a model for a task: resolution, backend choice and the one in-process cache.

Every layer that needs a model (evaluate, explain, compress, report, serve, the apps)
calls ``load`` here; ``tamellm.load`` is this function. A folder's weights are read
once per process and shared by the tasks it serves (a fine-tuned classifier also
embeds and classifies zero-shot through its encoder).
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from typing import Any

from tamellm.errors import InputError, ModelFormatError
from tamellm.models import default_model, resolve
from tamellm.models.loaders import LOADERS, LoadedModel
from tamellm.models.resolve import ResolvedModel
from tamellm.tasks.backends import AUTO_BACKENDS, BACKENDS, DEFAULT, chosen_backend
from tamellm.tasks.base import TaskModel
from tamellm.tasks.spec import TASKS, task_spec

log = logging.getLogger(__name__)
_CACHE: dict[tuple[str, ...], Any] = {}  # ("weights", folder, kind) and ("task", folder, task, backend)
_LOCK = threading.RLock()


def _cached(key: tuple[str, ...], make: Callable[[], Any], cached: bool = True) -> Any:
    """``make()`` once per ``key`` in this process (every call anew with ``cached=False``); None is not kept."""
    with _LOCK:
        if cached and key in _CACHE:
            return _CACHE[key]
        value = make()
        if cached and value is not None:
            _CACHE[key] = value
        return value


def read_weights(resolved: ResolvedModel, cached: bool = True) -> LoadedModel:
    """The weights of ``resolved`` in memory (from the cache unless ``cached=False``)."""
    loader = LOADERS.get(resolved.kind)
    if loader is None:
        raise ModelFormatError(f"Model {resolved.name} is of kind '{resolved.kind}', which this version cannot run",
                               f"runnable kinds: {', '.join(LOADERS)}")

    def read() -> LoadedModel:
        log.info("loading %s (%s) from %s", resolved.name, resolved.kind, resolved.path)
        return loader(resolved)

    return _cached(("weights", str(resolved.path), resolved.kind), read, cached)


def build_task_model(resolved: ResolvedModel, task: str | None = None, cached: bool = True) -> TaskModel:
    """The ``TaskModel`` serving ``task`` (default: the folder's own) on ``resolved``, checked against its spec."""
    task = task or resolved.task
    cls = task_spec(task).model_class(resolved.kind)
    own = TASKS.get(resolved.task)
    serves = own.serves() if own else {resolved.task}
    if task not in serves:
        raise InputError(f"Model '{resolved.name}' (task '{resolved.task}') cannot serve task '{task}'",
                         f"it serves: {', '.join(sorted(serves))}")
    return _cached(("task", str(resolved.path), task, "transformers"), lambda: cls(read_weights(resolved, cached)),
                   cached)


def load(model: str | os.PathLike, task: str | None = None, allow_network: bool | None = None,
         backend: str | None = None) -> TaskModel:
    """Load a model by catalog name or folder; its task is read from the folder.

    ``task`` overrides it (e.g. ``"zero-shot-classification"`` on an encoder). The
    returned object's ``predict(...)`` runs the task. Loaded models are reused.
    The default backend ("auto", see tasks/backends.py) runs Llama/Qwen-architecture chat models on
    onnxruntime-genai (int8 weights built once, cached) and the rest on transformers;
    ``backend="transformers"`` forces the torch path, ``backend="llama.cpp"`` (or env
    TAMELLM_GENERATION_BACKEND) runs a GGUF chat model with llama.cpp, ``backend="onnxruntime"``
    runs a fine-tuned classifier's weights on ONNX Runtime (exported once, cached).
    """
    resolved = resolve(model, allow_network=allow_network)
    task = task or resolved.task
    name, explicit = chosen_backend(backend)
    names = AUTO_BACKENDS if name == DEFAULT else [name]
    for one in names:
        if one == "transformers":
            break
        # Keyed by the backend that runs it, so "auto" and its backend named explicitly share one engine.
        fast = _cached(("task", str(resolved.path), task, one),
                       lambda one=one: BACKENDS[one](resolved, task, explicit and name != DEFAULT))
        if fast is not None:
            return fast
    return build_task_model(resolved, task)


def default_model_name(task: str, texts: Any = None) -> str:
    """The catalog model ``task`` uses when the user names none: one that covers the language of ``texts``.

    The language is detected on a sample of ``texts`` (``tamellm.languages.detect_language``);
    the English default gives way to the catalog's multilingual model for Chinese, Russian, ...
    """
    # Only strings in a str / list / tuple are read: an iterator would be used up here, and bad input is
    # the task model's to reject with its own message.
    sample = [texts] if isinstance(texts, str) else list(texts) if isinstance(texts, list | tuple) else []
    sample = [t for t in sample if isinstance(t, str) and t.strip()]
    language = None
    if sample:
        from tamellm.languages import detect_language

        language = detect_language(sample)
    spec = default_model(task, language)
    if language is not None:
        log.info("text in '%s': %s uses %s (it covers %s)", language, task, spec.name, ", ".join(spec.languages))
    return spec.name


def load_for_task(task: str, model: str | os.PathLike | None = None, texts: Any = None) -> TaskModel:
    """``model`` loaded for ``task``, or the catalog's default for that task (one covering the language of
    ``texts``, when they are given)."""
    return load(model or default_model_name(task, texts), task=task)


def load_for_explanation(model: Any, labels: Any = None, task: str | None = None, texts: Any = None) -> TaskModel:
    """The task model to explain: a loaded TaskModel, a name or folder, or zero-shot on the default
    encoder (for the language of ``texts``) when only candidate ``labels`` are given (an encoder
    with labels explains zero-shot)."""
    if isinstance(model, TaskModel):
        return model
    if model is None:
        if labels is None:
            raise InputError("explain needs a model (or candidate labels for zero-shot)",
                             "pass model='path/to/classifier', or labels=['positive', 'negative']")
        return load_for_task("zero-shot-classification", texts=texts)
    if task is None and labels is not None and resolve(model).task == "embed":
        task = "zero-shot-classification"
    return load(model, task=task)


def clear_cache() -> None:
    """Forget every loaded model (tests; a long-lived process that wants its memory back)."""
    with _LOCK:
        _CACHE.clear()
