"""Opening data files: existence checks and decoding, done once per file.

Every reader goes through :func:`read_text` (or :func:`check_file` for binary
formats), so a missing file, a directory, an empty file or a file that is not
UTF-8 gets the same clear :class:`~tamellm.errors.DataError` whatever the format.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from tamellm.errors import DataError, did_you_mean

logger = logging.getLogger(__name__)

_BOMS = {
    b"\xff\xfe": "utf-16",
    b"\xfe\xff": "utf-16",
}


def check_file(path: str | os.PathLike[str]) -> Path:
    """Return ``path`` as a :class:`Path`, or raise DataError if it is not a readable, non-empty file."""
    p = Path(path).expanduser()
    if not p.exists():
        hint = "check the path"
        parent = p.parent if str(p.parent) else Path(".")
        if parent.is_dir():
            hint += did_you_mean(p.name, [c.name for c in parent.iterdir()]).replace(" Did", "; did")
        else:
            hint += f"; the folder {parent} does not exist either"
        raise DataError(f"data file not found: {p}", hint)
    if p.is_dir():
        raise DataError(f"{p} is a folder, not a data file", "pass the path of a file inside it")
    if p.stat().st_size == 0:
        raise DataError(f"{p} is empty (0 bytes)", "pass a file with a header and at least one row")
    return p


def decode(raw: bytes, path: str | os.PathLike[str], encoding: str | None = None) -> str:
    """Decode the bytes of ``path``: UTF-8 (a BOM is accepted) unless ``encoding`` is given.

    A decoding failure raises DataError naming the file, the byte offset and line of the
    first bad byte, and how to fix it (re-save as UTF-8 or pass ``encoding=``).
    """
    codec = encoding or "utf-8-sig"
    try:
        return raw.decode(codec)
    except LookupError as exc:
        raise DataError(
            f"unknown text encoding {encoding!r} for {path}",
            "pass a Python codec name such as 'utf-8', 'latin-1' or 'cp1252'",
        ) from exc
    except UnicodeDecodeError as exc:
        offset = exc.start
        line = raw.count(b"\n", 0, offset) + 1
        bad = raw[offset : offset + 1].hex()
        bom = _BOMS.get(raw[:2])
        if bom and encoding is None:
            hint = f"the file starts with a {bom.upper()} byte-order mark: re-save it as UTF-8, or pass "
            hint += f"encoding={bom!r}"
        elif encoding is None:
            hint = "re-save the file as UTF-8, or pass its real encoding, e.g. encoding='latin-1'"
        else:
            hint = "pass the file's real encoding, or re-save it as UTF-8"
        raise DataError(
            f"{path} is not valid {codec.replace('-sig', '').upper()}: byte 0x{bad} at byte offset {offset} "
            f"(line {line}) cannot be decoded",
            hint,
        ) from exc


def read_text(path: str | os.PathLike[str], encoding: str | None = None) -> str:
    """Read a text file once and decode it (see :func:`decode`); empty or blank files raise DataError."""
    p = check_file(path)
    raw = p.read_bytes()
    text = decode(raw, p, encoding)
    if not text.strip():
        raise DataError(f"{p} is empty (only blank space)", "pass a file with a header and at least one row")
    logger.debug("read %s (%d bytes)", p, len(raw))
    return text
