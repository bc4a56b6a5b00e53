"""Images, scanned documents and speech as text: one reader per kind of file, with provenance.

    >>> from tamellm.media import read_media
    >>> read_media("receipt.png").text          # OCR (RapidOCR), boxes per line
    >>> read_media("report.pdf").segments[0].page  # pypdf text layer, OCR for scanned pages
    >>> read_media("call.mp3", transcriber=whisper).segments[0].start   # Whisper, in chunks

``MEDIA_READERS`` maps a file suffix to its reader; a reader takes ``(path, limits, **options)``
and returns a ``MediaText``. Unsupported suffixes are an ``InputError`` listing the accepted ones.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tamellm.errors import InputError
from tamellm.media.limits import DEFAULT_LIMITS, MediaLimits
from tamellm.media.types import MediaResult, MediaText, Segment
from tamellm.registry import Registry

Reader = Callable[..., MediaText]
MEDIA_READERS: Registry[Reader] = Registry("media_readers", "media file type")

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff", ".gif")
PDF_SUFFIXES = (".pdf",)
AUDIO_SUFFIXES = (".wav", ".mp3", ".flac", ".ogg", ".oga", ".opus", ".m4a", ".webm")


def _image(path: Path, limits: MediaLimits, **options: Any) -> MediaText:
    from tamellm.media.image import read_image

    return read_image(path, limits, **options)


def _pdf(path: Path, limits: MediaLimits, **options: Any) -> MediaText:
    from tamellm.media.pdf import read_pdf

    return read_pdf(path, limits, **options)


def _audio(path: Path, limits: MediaLimits, **options: Any) -> MediaText:
    from tamellm.media.audio import read_audio

    return read_audio(path, limits, **options)


for _suffixes, _reader in ((IMAGE_SUFFIXES, _image), (PDF_SUFFIXES, _pdf), (AUDIO_SUFFIXES, _audio)):
    for _suffix in _suffixes:
        MEDIA_READERS.register(_suffix, _reader)


def media_kind(path: str | os.PathLike) -> str | None:
    """"image", "pdf" or "audio" for a media file's suffix; None for anything else (text, tables)."""
    suffix = Path(path).suffix.lower()
    for kind, suffixes in (("image", IMAGE_SUFFIXES), ("pdf", PDF_SUFFIXES), ("audio", AUDIO_SUFFIXES)):
        if suffix in suffixes:
            return kind
    return None


def is_media(path: str | os.PathLike) -> bool:
    """Whether ``path`` names an image, PDF or audio file (by suffix) that ``read_media`` reads."""
    return Path(path).suffix.lower() in MEDIA_READERS


def read_media(path: str | os.PathLike, limits: MediaLimits | None = None, **options: Any) -> MediaText:
    """The text in an image, PDF or audio file, with where each piece came from.

    ``options`` go to the reader (audio: ``transcriber``, ``language``, ``on_chunk``).
    """
    path = Path(path)
    limits = limits or DEFAULT_LIMITS
    if not path.is_file():
        raise InputError(f"File {path} not found", "pass the path of an image, PDF or audio file")
    suffix = path.suffix.lower()
    if suffix not in MEDIA_READERS:
        raise InputError(f"{path}: '{suffix or 'no suffix'}' files are not supported as media input",
                         "accepted: images " + " ".join(IMAGE_SUFFIXES) + "; PDF; audio " + " ".join(AUDIO_SUFFIXES))
    size = path.stat().st_size
    if size == 0:
        raise InputError(f"{path} is empty", "pass a file with content")
    if size > limits.max_file_bytes:
        raise InputError(f"{path} is {size / 2**20:.0f} MB, more than the limit of "
                         f"{limits.max_file_bytes / 2**20:.0f} MB",
                         "split it, or raise the limit with TAMELLM_MAX_MEDIA_BYTES")
    return MEDIA_READERS[suffix](path, limits, **options)


__all__ = ["AUDIO_SUFFIXES", "DEFAULT_LIMITS", "IMAGE_SUFFIXES", "MEDIA_READERS", "PDF_SUFFIXES", "MediaLimits",
           "MediaResult", "MediaText", "Segment", "is_media", "media_kind", "read_media"]
