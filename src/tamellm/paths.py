"""Where tamellm keeps its files: ``$TAMELLM_HOME`` (default ``~/.cache/tamellm``)."""

from __future__ import annotations

import os
from pathlib import Path


def home() -> Path:
    """The tamellm home folder (created on first use)."""
    path = Path(os.environ.get("TAMELLM_HOME", Path.home() / ".cache" / "tamellm")).expanduser()
    path.mkdir(parents=True, exist_ok=True)
    return path


def cache_dir(kind: str) -> Path:
    """A sub-folder of the home for one kind of cached file (e.g. ``converted``)."""
    path = home() / kind
    path.mkdir(parents=True, exist_ok=True)
    return path


def folder_size(path: Path) -> int:
    """Total size in bytes of the files under ``path``."""
    if not path.exists():
        return 0
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
