"""Typed results of the one-line API. Each has ``to_dict()`` for JSON."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np


def _plain(value: Any) -> Any:
    """Turn numpy values into plain Python for JSON."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


class _Result:
    def to_dict(self) -> dict:
        """A JSON-ready dict of this result."""
        return _plain(asdict(self))

    def to_row(self) -> dict:
        """Flat columns for a predictions file (beside the input text)."""
        return {"result": json.dumps(self.to_dict(), ensure_ascii=False)}


@dataclass
class Classification(_Result):
    """The label chosen for one text, with a score for every label (highest first)."""

    text: str
    label: str
    scores: dict[str, float]
    labels: list[str] = field(default_factory=list)  # multi-label: every label above the threshold

    @property
    def score(self) -> float:
        """The score of the chosen label."""
        return self.scores[self.label]

    def to_row(self) -> dict:
        """label, score and one ``score_<label>`` column per label."""
        return {"label": self.label, "score": self.score, **{f"score_{k}": v for k, v in self.scores.items()}}


@dataclass
class Entity(_Result):
    """One named entity: its text, type and character span in the input."""

    text: str
    label: str
    start: int
    end: int
    score: float | None = None


@dataclass
class EntityResult(_Result):
    """The entities found in one text."""

    text: str
    entities: list[Entity]

    def to_row(self) -> dict:
        """The entities as one JSON column."""
        return {"entities": json.dumps([e.to_dict() for e in self.entities], ensure_ascii=False)}


@dataclass
class Generation(_Result):
    """Generated text with how it was produced."""

    text: str
    prompt: str
    new_tokens: int
    seconds: float
    finish_reason: str = "stop"  # "stop" or "length"

    @property
    def tokens_per_second(self) -> float:
        """Decoding speed of this generation."""
        return self.new_tokens / self.seconds if self.seconds > 0 else 0.0

    def to_row(self) -> dict:
        """The generated text."""
        return {"generated": self.text}


@dataclass
class Embeddings(_Result):
    """One vector per text (L2-normalised unless asked otherwise)."""

    texts: list[str]
    vectors: np.ndarray
    model: str

    def __len__(self) -> int:
        return len(self.texts)

    def __getitem__(self, index: int) -> np.ndarray:
        return self.vectors[index]

    @property
    def dim(self) -> int:
        """The number of dimensions of each vector."""
        return int(self.vectors.shape[1])


@dataclass
class Transcription(_Result):
    """The text of an audio file, with timed segments."""

    text: str
    language: str
    segments: list[dict] = field(default_factory=list)
