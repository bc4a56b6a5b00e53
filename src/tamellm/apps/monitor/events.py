"""Timestamped texts in: JSONL lines from a file (read once or followed as it grows) or a stream.

A reader yields batches of ``Event``s together with the byte offset just after the last
line of the batch, so that the runner can store the offset in the same transaction as
the events and restart exactly there.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from tamellm.errors import DataError

log = logging.getLogger("tamellm.apps.monitor")

# What a bad line does: "error" stops with a message naming the line, "skip" counts it and goes on.
BAD_INPUT_POLICIES = ("error", "skip")


@dataclass(frozen=True)
class Event:
    """One text with its time (UTC), its id (given or derived) and optional source."""

    id: str
    timestamp: datetime
    text: str
    source: str | None = None

    @property
    def ts(self) -> float:
        """Seconds since the epoch."""
        return self.timestamp.timestamp()


@dataclass
class Batch:
    """Events read together; ``offset`` is the position after them (None for a stream without offsets)."""

    events: list[Event]
    offset: int | None
    skipped: list[str] = field(default_factory=list)  # "line N: reason" for each skipped line


def parse_timestamp(value: Any) -> datetime:
    """An ISO-8601 string (``Z`` accepted; no zone means UTC) or epoch seconds, as an aware UTC datetime."""
    if isinstance(value, bool):
        raise ValueError(f"not a timestamp: {value!r}")
    if isinstance(value, int | float):
        return datetime.fromtimestamp(float(value), tz=UTC)
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"not a timestamp: {value!r}")
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    moment = datetime.fromisoformat(text)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def iso(moment: datetime | float) -> str:
    """ISO-8601 in UTC with a ``Z``, the form every output of the monitor uses."""
    if not isinstance(moment, datetime):
        moment = datetime.fromtimestamp(moment, tz=UTC)
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def derived_id(timestamp: str, text: str, source: str | None) -> str:
    """An id for an event that has none: the same line read twice gets the same id."""
    return "h:" + hashlib.sha1(f"{timestamp}\x1f{source or ''}\x1f{text}".encode()).hexdigest()[:20]


def _file_text(value: Any, where: str, base_dir: Path | None) -> tuple[str, str]:
    """(the text read from an event's ``file``, its name): a path (events read from disk only) or
    ``{"name", "data"}`` with base64 data; images go through OCR, PDFs pypdf, audio Whisper."""
    from tamellm.api import read_file
    from tamellm.errors import InputError
    from tamellm.media.uploads import Upload, decode_base64, read_upload

    try:
        if isinstance(value, str) and value.strip():
            if base_dir is None:  # a client of the HTTP route must not name files on the server
                raise DataError(f"{where}: 'file' as a path is read only from an events file",
                                'send the file itself: "file": {"name": "scan.png", "data": "<base64>"}')
            path = Path(value).expanduser()
            path = path if path.is_absolute() else base_dir / path
            media, name = read_file(path), value
        elif isinstance(value, dict) and isinstance(value.get("data"), str):
            name = str(value.get("name") or "file")
            data, mime = decode_base64(value["data"], f"{where} 'file.data'")
            media = read_upload(Upload(name, data), read_file, mime)
        else:
            raise DataError(f"{where}: 'file' must be a path or {{\"name\", \"data\"}} with base64 data",
                            "an image (OCR), PDF or audio file (Whisper) whose text is the event's text")
    except InputError as exc:
        raise DataError(f"{where}: {exc.message}", exc.hint) from None
    if not media.text.strip():
        raise DataError(f"{where}: no text was found in the {media.kind} '{name}'",
                        "pass a file with printed text or speech")
    return media.text, name


def event_from_dict(row: Any, where: str, base_dir: Path | None = None) -> Event:
    """An ``Event`` from one decoded JSON object; ``DataError`` naming ``where`` and the field otherwise.

    Instead of ``text`` an event may carry ``file``: an image, PDF or audio file whose read text
    becomes the event's text (its ``source`` defaults to the file's name). A path is resolved
    against ``base_dir`` (the events file's folder) and refused when ``base_dir`` is None.
    """
    if not isinstance(row, dict):
        raise DataError(f"{where}: expected a JSON object, got {type(row).__name__}",
                        'each line is {"id": "...", "timestamp": "2026-01-01T09:30:00Z", "text": "..."}')
    text = row.get("text")
    if row.get("file") is not None and not (isinstance(text, str) and text.strip()):
        text, name = _file_text(row["file"], where, base_dir)
        row = {**row, "source": row.get("source") or name}
    if not isinstance(text, str) or not text.strip():
        raise DataError(f"{where}: missing or empty 'text'", "each event needs a non-empty text string")
    if "timestamp" not in row or row["timestamp"] in (None, ""):
        raise DataError(f"{where}: missing 'timestamp'", "add an ISO-8601 time such as 2026-01-01T09:30:00Z")
    try:
        moment = parse_timestamp(row["timestamp"])
    except (ValueError, TypeError, OverflowError):
        raise DataError(f"{where}: unparseable timestamp {row['timestamp']!r}",
                        "use ISO-8601 such as 2026-01-01T09:30:00Z or 2026-01-01T10:30:00+01:00") from None
    source = row.get("source")
    source = None if source is None else str(source)
    event_id = row.get("id")
    event_id = str(event_id) if event_id not in (None, "") else derived_id(str(row["timestamp"]), text, source)
    return Event(id=event_id, timestamp=moment, text=text, source=source)


def parse_line(line: str, where: str, base_dir: Path | None = None) -> Event | None:
    """An ``Event`` from one JSONL line (None for a blank line); ``base_dir``: where ``file`` paths are."""
    if not line.strip():
        return None
    try:
        row = json.loads(line)
    except json.JSONDecodeError as exc:
        raise DataError(f"{where}: not valid JSON ({exc.msg} at column {exc.colno})",
                        "each line is one JSON object") from None
    return event_from_dict(row, where, base_dir)


class _Lines:
    """Collects parsed events under the bad-input policy."""

    def __init__(self, name: str, on_bad: str, base_dir: Path | None = None) -> None:
        if on_bad not in BAD_INPUT_POLICIES:
            raise DataError(f"Unknown bad-input policy '{on_bad}'", f"accepted: {', '.join(BAD_INPUT_POLICIES)}")
        self.name, self.on_bad, self.base_dir = name, on_bad, base_dir
        self.events: list[Event] = []
        self.skipped: list[str] = []

    def add(self, raw: bytes, number: int) -> None:
        where = f"{self.name} line {number}"
        try:
            event = parse_line(raw.decode("utf-8"), where, self.base_dir)
        except UnicodeDecodeError as exc:
            error = DataError(f"{where}: not UTF-8 (byte {exc.start})", "re-save the file as UTF-8")
            event = None
            self._bad(error)
            return
        except DataError as exc:
            self._bad(exc)
            return
        if event is not None:
            self.events.append(event)

    def _bad(self, error: DataError) -> None:
        if self.on_bad == "error":
            raise error
        log.warning("skipped %s", error.message)
        self.skipped.append(error.message)

    def take(self, offset: int | None) -> Batch:
        batch = Batch(self.events, offset, self.skipped)
        self.events, self.skipped = [], []
        return batch


def _line_number_at(path: Path, offset: int) -> int:
    """How many lines lie before ``offset`` (to name lines correctly after a restart)."""
    if offset <= 0:
        return 0
    with open(path, "rb") as handle:
        return handle.read(offset).count(b"\n")


def read_file(
    path: str | os.PathLike,
    start: int = 0,
    batch_size: int = 256,
    follow: bool = False,
    poll: float = 0.5,
    on_bad: str = "error",
    should_stop: Callable[[], bool] = lambda: False,
    idle_batch_s: float = 1.0,
) -> Iterator[Batch]:
    """Batches of events from a JSONL file, from byte ``start``; with ``follow``, keep reading as it grows.

    Only whole lines are read while following (a writer may be half-way through one); a
    file that shrinks below the position (rotated or truncated) is read again from its start.
    While following, a partial batch is handed out after ``idle_batch_s`` without new lines.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"Input file {path} not found", "pass an existing JSONL file of events")
    lines = _Lines(path.name, on_bad, path.parent)
    number = _line_number_at(path, start)
    with open(path, "rb") as handle:
        handle.seek(start)
        position = start
        last_line_at = time.monotonic()
        while True:
            raw = handle.readline()
            if raw and (raw.endswith(b"\n") or not follow):
                position += len(raw)
                number += 1
                lines.add(raw, number)
                last_line_at = time.monotonic()
                if len(lines.events) >= batch_size:
                    yield lines.take(position)
                    if follow and should_stop():
                        return
                continue
            if raw:  # a partial line while following: come back to it once it is complete
                handle.seek(position)
            if not follow:
                yield lines.take(position)
                return
            if lines.events or lines.skipped:
                if time.monotonic() - last_line_at >= idle_batch_s:
                    yield lines.take(position)
            elif not raw:
                yield lines.take(position)  # an empty batch: lets the runner advance time and stop
            if should_stop():
                yield lines.take(position)
                return
            if path.stat().st_size < position:
                log.warning("%s shrank below the read position: reading it again from the start", path)
                handle.seek(0)
                position, number = 0, 0
            time.sleep(poll)


def read_stream(stream: IO[str], name: str = "stdin", batch_size: int = 256, on_bad: str = "error") -> Iterator[Batch]:
    """Batches of events from a text stream (stdin); no offsets: a restart relies on event ids.
    ``file`` paths in events are relative to the working directory."""
    lines = _Lines(name, on_bad, Path.cwd())
    for number, line in enumerate(stream, start=1):
        lines.add(line.encode("utf-8"), number)
        if len(lines.events) >= batch_size:
            yield lines.take(None)
    yield lines.take(None)
