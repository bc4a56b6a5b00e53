"""Files that arrive as bytes (an HTTP upload, a base64 field, a monitor event): their kind, then their text.

A reader dispatches on the file suffix, but an upload's name may be missing or wrong, so the
suffix comes from, in order: the name's suffix when it is a media suffix, the MIME type of a
``data:`` URL, and the first bytes of the file (``filetype``, a small dependency-free sniffing
library, instead of a hand-kept table of signatures).
"""

from __future__ import annotations

import base64
import binascii
import mimetypes
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tamellm.errors import InputError
from tamellm.media import AUDIO_SUFFIXES, IMAGE_SUFFIXES, MEDIA_READERS
from tamellm.media.types import MediaText

ACCEPTED = "images (" + " ".join(IMAGE_SUFFIXES) + "), PDF, audio (" + " ".join(AUDIO_SUFFIXES) + ")"
# MIME types whose usual suffix (mimetypes) is not the one the readers register.
_MIME_SUFFIXES = {"audio/mpeg": ".mp3", "audio/x-wav": ".wav", "audio/wave": ".wav", "audio/x-flac": ".flac",
                  "audio/mp4": ".m4a", "video/webm": ".webm", "image/jpg": ".jpg"}


@dataclass
class Upload:
    """A file received as bytes: its name as the sender gave it (or a made-up one) and its content."""

    name: str
    data: bytes


def media_suffix(data: bytes, name: str | None = None, mime: str | None = None) -> str:
    """The reader suffix for a file's bytes; ``InputError`` naming the accepted kinds when there is none."""
    suffix = Path(name or "").suffix.lower()
    if suffix in MEDIA_READERS:
        return suffix
    if mime:
        guessed = _MIME_SUFFIXES.get(mime) or mimetypes.guess_extension(mime) or ""
        if guessed.lower() in MEDIA_READERS:
            return guessed.lower()
    import filetype

    kind = filetype.guess(data[:8192])
    if kind is not None:
        sniffed = "." + kind.extension.lower()
        if sniffed in MEDIA_READERS:
            return sniffed
        mapped = _MIME_SUFFIXES.get(kind.mime)
        if mapped:
            return mapped
    what = f"'{name}'" if name else "the file"
    found = f" (it looks like {kind.mime})" if kind is not None else ""
    raise InputError(f"{what} is not a supported media file{found}", f"accepted: {ACCEPTED}")


def decode_base64(value: str, where: str) -> tuple[bytes, str | None]:
    """(bytes, MIME type or None) from base64 text or a ``data:MIME;base64,...`` URL; ``InputError`` otherwise."""
    mime = None
    payload = value.strip()
    if payload.startswith("data:"):
        header, _, payload = payload.partition(",")
        mime = header[5:].split(";", 1)[0] or None
    try:
        data = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise InputError(f"{where} is not valid base64",
                         "send the file's bytes base64-encoded, or a data: URL (data:image/png;base64,...)") from None
    if not data:
        raise InputError(f"{where} is empty", "send a file with content")
    return data, mime


def read_upload(upload: Upload, read: Callable[[Path], MediaText], mime: str | None = None,
                max_bytes: int | None = None) -> MediaText:
    """The text of an uploaded file: written to a private temporary file, read by ``read(path)``.

    ``read`` is the caller's reader (the public API's ``read_file`` carries the Whisper model for
    audio, which this layer cannot load). The result names the upload, not the temporary file.
    """
    if not upload.data:
        raise InputError(f"'{upload.name}' is empty", "send a file with content")
    if max_bytes is not None and len(upload.data) > max_bytes:
        raise InputError(f"'{upload.name}' is {len(upload.data) / 2**20:.1f} MB; the limit is "
                         f"{max_bytes / 2**20:.1f} MB", "send a smaller file")
    suffix = media_suffix(upload.data, upload.name, mime)
    with tempfile.TemporaryDirectory(prefix="tamellm-upload-") as folder:
        path = Path(folder) / ("upload" + suffix)
        path.write_bytes(upload.data)
        try:
            media = read(path)
        except InputError as exc:  # the reader names the temporary path: name the upload instead
            raise InputError(exc.message.replace(str(path), f"'{upload.name}'"), exc.hint) from None
    media.path = upload.name
    return media

