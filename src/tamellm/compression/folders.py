"""Reading a source model for a compressor and writing the compressed folder."""

from __future__ import annotations

from pathlib import Path

from tamellm.compression.base import CompressionError, read_manifest, write_manifest
from tamellm.models.compressed_loader import KIND, save_compressed
from tamellm.models.loaders import LOADERS, LoadedModel, quiet_transformers
from tamellm.models.resolve import ResolvedModel, resolve

TORCH_KINDS = ("transformers", "encoder", KIND)
# Why a folder of another kind has no compression method, and what to do instead.
NOT_COMPRESSIBLE = {
    "peft": ("its trained prompt (virtual tokens or key/value prefixes) lives outside the base model's "
             "weights, which every method (quantization, ONNX export, pruning, low-rank, distillation) rewrites",
             "re-train with --strategy lora or full (saved merged into the weights) and compress that folder"),
    "onnx": ("it is already an ONNX Runtime export; the methods work on the PyTorch weights",
             "compress the PyTorch model folder it was exported from"),
}


def check_compressible(resolved: ResolvedModel, methods: list[str]) -> None:
    """Raise CompressionError, naming why and what to do, when no method can work on ``resolved``'s kind."""
    if resolved.kind in TORCH_KINDS:
        return
    manifest = resolved.info.manifest if resolved.info else {}
    what = f"a {manifest['strategy']} model" if manifest.get("strategy") else f"a {resolved.kind} model"
    why, hint = NOT_COMPRESSIBLE.get(resolved.kind, (
        "the methods work on PyTorch (transformers) model folders", f"kinds accepted: {', '.join(TORCH_KINDS)}"))
    raise CompressionError(f"Model '{resolved.name}' is {what} (kind {resolved.kind}) and cannot be compressed: "
                           f"{why}; methods that apply: none of {', '.join(methods)}", hint)


def load_source(source: Path, method: str) -> tuple[LoadedModel, list[dict]]:
    """Load a fresh (uncached, so safe to change) torch copy of ``source`` and its transform recipe."""
    resolved = resolve(source)
    check_compressible(resolved, [method])
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
