"""Reading a source model for a compressor and writing the compressed folder."""

from __future__ import annotations

from pathlib import Path

from tamellm.compress.base import CompressionError, read_manifest, write_manifest
from tamellm.models.compressed_loader import KIND, save_compressed
from tamellm.models.loaders import LOADERS, LoadedModel, quiet_transformers
from tamellm.models.resolve import resolve

TORCH_KINDS = ("transformers", "encoder", KIND)


def load_source(source: Path, method: str) -> tuple[LoadedModel, list[dict]]:
    """Load a fresh (uncached, so safe to change) torch copy of ``source`` and its transform recipe."""
    resolved = resolve(source)
    if resolved.kind not in TORCH_KINDS:
        raise CompressionError(
            f"Method '{method}' cannot compress model '{resolved.name}': it is a {resolved.kind} model",
            f"it works on PyTorch (transformers) model folders; kinds accepted: {', '.join(TORCH_KINDS)}",
        )
    quiet_transformers()
    loaded = LOADERS[resolved.kind](resolved)
    transforms = read_manifest(resolved.path).get("compress", {}).get("transforms", [])
    return loaded, list(transforms)


def require_fp32_layers(transforms: list[dict], method: str, source: Path) -> None:
    """A method that changes float weights cannot run after int8 quantization."""
    if any(t["method"] == "dynamic-int8" for t in transforms):
        raise CompressionError(f"Method '{method}' cannot run on {source}: its weights are already int8",
                               f"apply '{method}' first and 'dynamic-int8' last")


def save_model(loaded: LoadedModel, out: Path, transforms: list[dict], details: dict) -> None:
    """Write a torch model into ``out``: a plain transformers folder when no transform needs
    rebuilding at load time, else a "compressed" folder (see models/compressed_loader)."""
    model, task = loaded.model, loaded.resolved.task
    manifest = {"task": task}
    if transforms:
        save_compressed(model, out, transforms)
        manifest.update(kind=KIND, compress={"transforms": transforms, **details})
    else:
        model.save_pretrained(out, safe_serialization=True)
        manifest.update(kind="transformers", compress=details)
    if loaded.tokenizer is not None:
        loaded.tokenizer.save_pretrained(out)
    write_manifest(out, manifest)
