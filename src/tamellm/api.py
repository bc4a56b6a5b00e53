"""The public API: one-line functions and ``load``. The CLI, server and UI call only this.

    >>> import tamellm
    >>> tamellm.classify("great phone", labels=["positive", "negative"]).label
    'positive'

Every function takes ``model=`` (a catalog name or a model folder); without it the
catalog's default for the task is used. Lists are processed in batches.
"""

from __future__ import annotations

import os
import platform
import threading
from collections.abc import Iterable, Iterator
from importlib import metadata
from pathlib import Path
from typing import Any

from tamellm.errors import InputError
from tamellm.models import CATALOG, default_model, load_weights, resolve
from tamellm.paths import folder_size, home
from tamellm.results import Classification, Embeddings, EntityResult, Generation, Transcription
from tamellm.tasks import TaskModel, task_class

Texts = str | Iterable[str]
_MODELS: dict[tuple[str, str], TaskModel] = {}
_LOCK = threading.Lock()
# The tasks a model folder can serve besides its own: an encoder (or a fine-tuned
# encoder) embeds and classifies zero-shot through its base model.
_ENCODER_TASKS = {"embed", "zero-shot-classification"}
COMPATIBLE_TASKS = {
    "embed": _ENCODER_TASKS,
    "classify": {"classify"} | _ENCODER_TASKS,
    "ner": {"ner"} | _ENCODER_TASKS,
}


def load(model: str | os.PathLike, task: str | None = None, allow_network: bool | None = None) -> TaskModel:
    """Load a model by catalog name or folder; its task is read from the folder.

    ``task`` overrides it (e.g. ``"zero-shot-classification"`` on an encoder). The
    returned object's ``predict(...)`` runs the task. Loaded models are reused.
    """
    resolved = resolve(model, allow_network=allow_network)
    task = task or resolved.task
    cls = task_class(task, resolved.kind)
    serves = COMPATIBLE_TASKS.get(resolved.task, {resolved.task})
    if task not in serves:
        raise InputError(f"Model '{resolved.name}' (task '{resolved.task}') cannot serve task '{task}'",
                         f"it serves: {', '.join(sorted(serves))}")
    key = (str(resolved.path), task)
    with _LOCK:
        if key not in _MODELS:
            _MODELS[key] = cls(load_weights(resolved))
        return _MODELS[key]


def _for_task(task: str, model: str | os.PathLike | None) -> TaskModel:
    return load(model or default_model(task).name, task=task)


def generate(
    prompt: Texts,
    model: str | None = None,
    max_new_tokens: int = 256,
    temperature: float = 0.0,
    seed: int | None = None,
    system: str | None = None,
) -> Generation | list[Generation]:
    """Generate a reply to a prompt (or to each prompt of a list); greedy by default."""
    return _for_task("generate", model).predict(
        prompt, system=system, max_new_tokens=max_new_tokens, temperature=temperature, seed=seed
    )


def chat(
    messages: str | list[dict[str, str]],
    model: str | None = None,
    stream: bool = False,
    max_new_tokens: int = 256,
    temperature: float = 0.0,
    seed: int | None = None,
) -> Generation | Iterator[str]:
    """Answer a chat history ([{"role", "content"}, ...] or one user string).

    With ``stream=True`` returns an iterator of text pieces as they are generated.
    """
    if isinstance(messages, str):
        messages = [{"role": "user", "content": messages}]
    generator = _for_task("generate", model)
    options = {"max_new_tokens": max_new_tokens, "temperature": temperature, "seed": seed}
    return generator.stream(messages, **options) if stream else generator.chat(messages, **options)


def summarize(text: Texts, model: str | None = None, max_words: int = 40) -> Generation | list[Generation]:
    """Summarize a text (or each text of a list) in about ``max_words`` words at most.

    Prompts the chat model; a single text gives one ``Generation``, a list gives a list.
    """
    return _for_task("generate", model).summarize(text, max_words=max_words)


def embed(texts: Texts, model: str | None = None, normalize: bool = True) -> Embeddings:
    """Embed texts as vectors (L2-normalised by default), in length-sorted batches."""
    return _for_task("embed", model).predict(texts, normalize=normalize)


def similarity(a: Texts, b: Texts, model: str | None = None) -> Any:
    """Cosine similarity of two texts (a float) or of two lists (a matrix)."""
    return _for_task("embed", model).similarity(a, b)


def classify(
    texts: Texts,
    labels: list[str] | dict[str, str] | str | None = None,
    model: str | os.PathLike | None = None,
    multi_label: bool = False,
) -> Classification | list[Classification]:
    """Classify a text or a list of texts.

    Without ``model`` (or with an encoder) this is zero-shot: pass ``labels`` (a list,
    "a,b,c", or {label: description}). With a fine-tuned model folder the model's own
    labels are used and ``labels`` is not needed.
    """
    if model is not None:
        loaded = load(model)
        if loaded.task == "classify":
            return loaded.predict(texts)
        if loaded.task not in ("embed", "zero-shot-classification"):
            raise InputError(f"Model '{loaded.name}' is a {loaded.task} model, not a classifier",
                             "use a fine-tuned classifier folder or an encoder such as minilm-l6")
    zero_shot = _for_task("zero-shot-classification", model)
    return zero_shot.predict(texts, labels=labels, multi_label=multi_label)


def ner(texts: Texts, model: str | os.PathLike | None = None) -> EntityResult | list[EntityResult]:
    """Find named entities (people, organisations, places, dates, ...)."""
    return _for_task("ner", model).predict(texts)


def transcribe(
    audio: str | os.PathLike, model: str | None = None, language: str | None = "en"
) -> Transcription:
    """Transcribe an audio file (needs the 'speech' extra)."""
    return _for_task("transcribe", model).predict(audio, language=language)


def list_models() -> list[dict]:
    """The catalog: every named model with its role, size, licence and install state."""
    return [spec.to_dict() for spec in CATALOG.values()]


def doctor() -> dict:
    """What this installation has: versions, threads, models present, cache size."""
    import torch

    versions = {}
    for dist in ("tamellm", "torch", "transformers", "tokenizers", "safetensors", "spacy", "faster-whisper"):
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            versions[dist] = None
    cache = home()
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "versions": versions,
        "threads": {"torch": torch.get_num_threads(), "cpus": os.cpu_count()},
        "models": {spec.name: (str(spec.locate()) if spec.locate() else None) for spec in CATALOG.values()},
        "home": str(cache),
        "cache_bytes": folder_size(Path(cache)),
        "network": os.environ.get("HF_HUB_OFFLINE") != "1",
    }
