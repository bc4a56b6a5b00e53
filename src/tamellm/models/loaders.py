"""Reading a resolved model into memory, one loader per kind of folder (``LOADERS``, a registry).

The loaders read; ``tamellm.tasks.load`` keeps what was read in its one in-process cache.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tamellm.errors import MissingExtraError, ModelFormatError
from tamellm.models.folder import register_architectures
from tamellm.models.resolve import ResolvedModel
from tamellm.registry import Registry

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
    ``tamellm.load`` does, in any process.
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
    from tamellm.models.gguf_cache import converted_model

    converted = converted_model(resolved)
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


LOADERS: Registry[Callable[[ResolvedModel], LoadedModel]] = Registry("loaders", "model folder kind")
for _kind, _loader in (("encoder", _load_transformers), ("transformers", _load_transformers), ("gguf", _load_gguf),
                       ("spacy", _load_spacy), ("whisper", _load_whisper)):
    LOADERS.register(_kind, _loader)


# Kinds whose loaders import onnxruntime or peft: imported when a folder of that kind is read.
@LOADERS.register("onnx")
def _load_onnx(resolved: ResolvedModel) -> LoadedModel:
    from tamellm.models.onnx_loader import load_onnx

    return load_onnx(resolved)


@LOADERS.register("compressed")
def _load_compressed(resolved: ResolvedModel) -> LoadedModel:
    from tamellm.models.compressed_loader import load_compressed

    return load_compressed(resolved)


@LOADERS.register("peft")
def _load_peft(resolved: ResolvedModel) -> LoadedModel:
    """A base model plus its prompt- or prefix-tuning adapter."""
    from tamellm.models.peft_loader import load_peft

    return load_peft(resolved)
