"""Loading a resolved model into memory, one loader per kind (a registry).

Loaded models are kept in a small in-process cache so that repeated one-line calls
(``tamellm.embed(...)`` in a loop) do not reload weights.
"""

from __future__ import annotations

import importlib
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tamellm.errors import MissingExtraError, ModelFormatError
from tamellm.models.folder import register_architectures
from tamellm.models.resolve import ResolvedModel

log = logging.getLogger(__name__)


@dataclass
class LoadedModel:
    """Weights in memory plus what is needed to run them."""

    resolved: ResolvedModel
    model: Any
    tokenizer: Any = None


def quiet_transformers() -> None:
    """Keep transformers' progress bars and advice off the user's terminal (we log instead)."""
    import transformers

    transformers.utils.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()


def prepare_transformers() -> None:
    """Call before transformers reads a folder: quiet its logs, register tamellm's own architectures.

    Every loader of a transformers-readable kind calls it itself, so a loader called
    directly (compress, measure, the ONNX twin) reads a mean-pooling folder as well as
    ``load_weights`` does, in any process.
    """
    quiet_transformers()
    register_architectures()


def _transformers_class(task: str):
    import transformers

    return {
        "classify": transformers.AutoModelForSequenceClassification,
        "ner": transformers.AutoModelForTokenClassification,
        "generate": transformers.AutoModelForCausalLM,
        "qa": transformers.AutoModelForQuestionAnswering,
        "summarize": transformers.AutoModelForSeq2SeqLM,
    }.get(task, transformers.AutoModel)


def _load_transformers(resolved: ResolvedModel) -> LoadedModel:
    from transformers import AutoTokenizer

    prepare_transformers()
    folder = resolved.path
    try:
        tokenizer = AutoTokenizer.from_pretrained(folder)
        model = _transformers_class(resolved.task).from_pretrained(folder, use_safetensors=True)
    except (OSError, ValueError, KeyError) as exc:
        raise ModelFormatError(
            f"Model folder {folder} could not be loaded: {str(exc).splitlines()[0]}",
            "a model folder needs config.json, *.safetensors and tokenizer files",
        ) from exc
    model.eval()
    # A tokenizer without a length limit (model_max_length ~1e30, common in hand-made folders)
    # would let a long text overflow the model's position table: bound it by the model.
    positions = getattr(model.config, "max_position_embeddings", None)
    if isinstance(positions, int) and positions > 0 and (tokenizer.model_max_length or 0) > positions:
        tokenizer.model_max_length = positions
    return LoadedModel(resolved, model, tokenizer)


def _load_gguf(resolved: ResolvedModel) -> LoadedModel:
    from tamellm.models.gguf_cache import ensure_converted

    spec_file = resolved.spec.file if resolved.spec else None
    candidates = [resolved.path / spec_file] if spec_file else sorted(resolved.path.glob("*.gguf"))
    if not candidates or not candidates[0].exists():
        raise ModelFormatError(f"No GGUF file found in {resolved.path}", "expected a *.gguf file")
    converted = ensure_converted(candidates[0])
    generate_view = ResolvedModel(resolved.name, converted, "transformers", "generate", resolved.source)
    loaded = _load_transformers(generate_view)
    loaded.resolved = resolved
    return loaded


def _load_spacy(resolved: ResolvedModel) -> LoadedModel:
    import spacy

    return LoadedModel(resolved, spacy.load(resolved.path))


def _load_whisper(resolved: ResolvedModel) -> LoadedModel:
    try:
        from faster_whisper import WhisperModel
    except ImportError:
        raise MissingExtraError(
            "Speech to text needs the 'speech' extra (faster-whisper)",
            "install it with: pip install 'tamellm[speech]'",
        ) from None
    return LoadedModel(resolved, WhisperModel(str(resolved.path), device="cpu", compute_type="int8"))


LOADERS: dict[str, Callable[[ResolvedModel], LoadedModel]] = {
    "encoder": _load_transformers,
    "transformers": _load_transformers,
    "gguf": _load_gguf,
    "spacy": _load_spacy,
    "whisper": _load_whisper,
}
# Kinds added by the compression layer; imported on first use (they import torch / onnxruntime).
LOADERS["onnx"] = lambda r: importlib.import_module("tamellm.models.onnx_loader").load_onnx(r)
LOADERS["compressed"] = lambda r: importlib.import_module("tamellm.models.compressed_loader").load_compressed(r)
LOADERS["peft"] = lambda r: importlib.import_module("tamellm.models.peft_loader").load_peft(r)  # prompt/prefix

_CACHE: dict[tuple[str, str, str], LoadedModel] = {}
_LOCK = threading.Lock()


def load_weights(resolved: ResolvedModel) -> LoadedModel:
    """Load (or fetch from the in-process cache) the weights of a resolved model."""
    key = (str(resolved.path), resolved.kind, resolved.task)
    with _LOCK:
        if key not in _CACHE:
            loader = LOADERS.get(resolved.kind)
            if loader is None:
                raise ModelFormatError(
                    f"Model {resolved.name} is of kind '{resolved.kind}', which this version cannot run",
                    f"runnable kinds: {', '.join(LOADERS)}",
                )
            log.info("Loading %s (%s) from %s", resolved.name, resolved.kind, resolved.path)
            if resolved.kind not in ("spacy", "whisper"):
                prepare_transformers()
            _CACHE[key] = loader(resolved)
        return _CACHE[key]


def clear_cache() -> None:
    """Forget every loaded model (frees memory)."""
    with _LOCK:
        _CACHE.clear()
