"""What a media reader returns: the text it read and where each piece came from."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class Segment:
    """One piece of read text and its place in the file.

    ``page`` (1-based, PDFs), ``box`` ([x0, y0, x1, y1] pixels of the image or page
    picture the text was read from), ``start`` / ``end`` (seconds, audio); what does not
    apply is None. ``source`` says how it was read: ``ocr``, ``pdf-text`` or ``speech``.
    """

    text: str
    source: str
    page: int | None = None
    box: list[float] | None = None
    start: float | None = None
    end: float | None = None
    score: float | None = None

    def to_dict(self) -> dict:
        """A JSON-ready dict without the fields that do not apply."""
        return {k: v for k, v in asdict(self).items() if v is not None}


@dataclass
class MediaText:
    """The text read from one image, PDF or audio file, with provenance per segment."""

    path: str
    kind: str  # "image" | "pdf" | "audio"
    text: str
    segments: list[Segment] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)  # width/height, pages, duration, language

    def to_dict(self) -> dict:
        """A JSON-ready dict: file, kind, text, info and segments."""
        return {"file": self.path, "kind": self.kind, "text": self.text, **self.info,
                "segments": [s.to_dict() for s in self.segments]}

    def provenance(self) -> dict:
        """Where the text came from, without repeating the text itself (for results that carry it)."""
        data = self.to_dict()
        data.pop("text")
        return data


@dataclass
class MediaResult:
    """A task's result on the text read from a file: the result's fields plus ``text`` and ``source``."""

    media: MediaText
    result: Any

    @property
    def text(self) -> str:
        """The text that was read from the file."""
        return self.media.text

    def __getattr__(self, name: str) -> Any:
        # label, scores, entities...: the wrapped result answers (dataclass fields are found first)
        if name in ("media", "result"):
            raise AttributeError(name)
        return getattr(self.result, name)

    def to_dict(self) -> dict:
        """The result's dict with ``text`` (what was read) and ``source`` (file, kind, segments)."""
        if isinstance(self.result, dict):
            inner = dict(self.result)
        else:
            inner = self.result.to_dict() if hasattr(self.result, "to_dict") else {"result": self.result}
        return {**inner, "text": self.media.text, "source": self.media.provenance()}
