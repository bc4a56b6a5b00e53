"""Where tamellm keeps its files: ``$TAMELLM_HOME`` (default ``~/.cache/tamellm``)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

# Bytes read from each end of a file for its fingerprint: enough to tell weight files apart in
# milliseconds, where hashing a 500 MB file whole would take seconds on every load.
FINGERPRINT_EDGE = 1 << 20


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


def file_fingerprint(path: Path) -> str:
    """A short key for ``path``'s content: its size and a hash of its first and last MiB.

    Cache keys use it instead of the mtime, which a reinstall of the same package changes: keyed by
    mtime, every new virtual environment converted the same weights again beside the old copy.
    """
    size = path.stat().st_size
    digest = hashlib.blake2b(digest_size=8)
    with path.open("rb") as handle:
        digest.update(handle.read(FINGERPRINT_EDGE))
        if size > 2 * FINGERPRINT_EDGE:
            handle.seek(size - FINGERPRINT_EDGE)
            digest.update(handle.read(FINGERPRINT_EDGE))
    return f"{size}-{digest.hexdigest()}"
