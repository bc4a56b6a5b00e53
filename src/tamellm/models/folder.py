"""Inspecting a model folder: which format it holds, which task it serves, is it sound.

Only safetensors, GGUF, ONNX, spaCy and CTranslate2 files are ever loaded: a folder
that holds only pickle weights (``*.bin``, ``*.pt``, ``*.pth``, ``*.pkl``) is refused,
because unpickling a file a user hands in can run arbitrary code.
"""

from __future__ import annotations

import importlib
import json
import struct
from dataclasses import dataclass, field
from pathlib import Path

from tamellm.errors import ModelFormatError

MANIFEST = "tamellm.json"  # written by tamellm into every model folder it produces
PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".pkl", ".ckpt")

# Maps the suffix of a transformers architecture name to the tamellm task it serves.
ARCHITECTURE_TASKS = {
    "ForSequenceClassification": "classify",
    "ForTokenClassification": "ner",
    "ForCausalLM": "generate",
    "LMHeadModel": "generate",
    "ForQuestionAnswering": "qa",
    "ForConditionalGeneration": "summarize",
}


# Architectures tamellm defines itself: config.json's model_type -> the module whose
# ``ensure_registered()`` teaches transformers' Auto classes that type. Reading a folder of
# such a type registers it, so every path that loads the folder (any command, any process)
# finds the class without depending on some earlier import.
CUSTOM_ARCHITECTURES = {"tamellm-mean-pooling-bert": "tamellm.models.mean_pooling",
                        "tamellm-mean-pooling-mpnet": "tamellm.models.mean_pooling"}


@dataclass
class FolderInfo:
    """What a model folder holds."""

    path: Path
    kind: str  # a key of tamellm.models.loaders.LOADERS
    task: str
    manifest: dict = field(default_factory=dict)
    weights: list[Path] = field(default_factory=list)


def read_json(path: Path) -> dict:
    """Read a JSON file of a model folder, naming the file when it is corrupt."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelFormatError(
            f"Model folder {path.parent} is corrupt: {path.name} is not valid JSON ({exc})",
            "re-save the model, or point at a folder written by save_pretrained / tamellm",
        ) from None
    if not isinstance(data, dict):
        raise ModelFormatError(f"Model folder {path.parent} is corrupt: {path.name} is not a JSON object")
    return data


def check_safetensors(path: Path) -> None:
    """Check that a safetensors file has a readable header (catches truncated copies)."""
    try:
        size = path.stat().st_size
        with path.open("rb") as handle:
            (header_len,) = struct.unpack("<Q", handle.read(8))
            if header_len <= 0 or 8 + header_len > size:
                raise ValueError("header length points past the end of the file")
            header = json.loads(handle.read(header_len))
        end = max((v["data_offsets"][1] for k, v in header.items() if k != "__metadata__"), default=0)
        if 8 + header_len + end > size:
            raise ValueError(f"file is truncated ({size} bytes, tensors need {8 + header_len + end})")
    except (struct.error, ValueError, KeyError, TypeError, AttributeError, IndexError) as exc:
        raise ModelFormatError(
            f"Model file {path} is corrupt: {exc}",
            "the safetensors file could not be read; copy or download it again",
        ) from None


def register_architecture(model_type: str | None) -> None:
    """Register tamellm's own architecture ``model_type`` with transformers (no-op for any other type; idempotent)."""
    module = CUSTOM_ARCHITECTURES.get(model_type or "")
    if module:
        importlib.import_module(module).ensure_registered()


def register_architectures() -> None:
    """Register every architecture tamellm defines (idempotent), before transformers reads a folder."""
    for model_type in CUSTOM_ARCHITECTURES:
        register_architecture(model_type)


def task_from_config(config: dict) -> str:
    """The task a transformers config.json serves, from its architecture name."""
    for arch in config.get("architectures") or []:
        for suffix, task in ARCHITECTURE_TASKS.items():
            if arch.endswith(suffix):
                return task
    return "embed"


def inspect_folder(path: Path) -> FolderInfo:
    """Tell which kind of model a folder holds and which task it serves.

    Raises ModelFormatError for an empty, corrupt or pickle-only folder.
    """
    manifest = read_json(path / MANIFEST) if (path / MANIFEST).exists() else {}
    files = [p for p in path.iterdir() if p.is_file()]
    by_suffix = {p.suffix for p in files}
    safetensors = sorted(p for p in files if p.suffix == ".safetensors")
    if ".gguf" in by_suffix:
        weights = sorted(p for p in files if p.suffix == ".gguf")
        return FolderInfo(path, "gguf", manifest.get("task", "generate"), manifest, weights)
    if (path / "meta.json").exists() and (path / "config.cfg").exists():
        return FolderInfo(path, "spacy", manifest.get("task", "ner"), manifest)
    if (path / "model.bin").exists() and (path / "vocabulary.txt").exists():
        # CTranslate2 (faster-whisper) format: a flat binary, not a pickle.
        return FolderInfo(path, "whisper", manifest.get("task", "transcribe"), manifest)
    if safetensors:
        if not (path / "config.json").exists():
            raise ModelFormatError(
                f"Model folder {path} is incomplete: it has weights but no config.json",
                "a transformers model folder needs config.json next to its *.safetensors",
            )
        config = read_json(path / "config.json")
        register_architecture(config.get("model_type"))
        for weight in safetensors:
            check_safetensors(weight)
        kind = manifest.get("kind", "encoder" if task_from_config(config) == "embed" else "transformers")
        return FolderInfo(path, kind, manifest.get("task", task_from_config(config)), manifest, safetensors)
    if ".onnx" in by_suffix:
        weights = sorted(p for p in files if p.suffix == ".onnx")
        if (path / "config.json").exists():  # labels and architecture, read with AutoConfig by the loader
            register_architecture(read_json(path / "config.json").get("model_type"))
        return FolderInfo(path, "onnx", manifest.get("task", "classify"), manifest, weights)
    pickles = sorted(p.name for p in files if p.suffix in PICKLE_SUFFIXES)
    if pickles:
        raise ModelFormatError(
            f"Model folder {path} holds only pickle weights ({', '.join(pickles)}); tamellm never unpickles "
            "files it is handed, since that can run arbitrary code",
            "convert it once, in an environment you trust, with "
            "AutoModel.from_pretrained(folder).save_pretrained(folder, safe_serialization=True)",
        )
    raise ModelFormatError(
        f"Model folder {path} holds no model files",
        "accepted: *.safetensors with config.json, *.gguf, *.onnx, a spaCy or CTranslate2 folder",
    )
