"""The result of one explanation: word scores toward each explained output."""

from __future__ import annotations

import os
from dataclasses import dataclass, field


@dataclass
class WordScore:
    """One word of the input, its character span, and its attribution score."""

    word: str
    score: float
    start: int
    end: int

    def to_dict(self) -> dict:
        """A JSON-ready dict."""
        return {"word": self.word, "score": round(float(self.score), 6), "start": self.start, "end": self.end}


@dataclass
class Explanation:
    """Why a model gave an output: a score per input word (positive pushes toward ``label``).

    ``per_label`` holds word scores toward every explained output (one entry per class
    for a classifier, per entity for NER, per generated token for generation); ``words``
    are those of ``label``.
    """

    text: str
    label: str
    method: str
    words: list[WordScore]
    per_label: dict[str, list[WordScore]] = field(default_factory=dict)
    probabilities: dict[str, float] = field(default_factory=dict)
    task: str = ""
    model: str = ""
    seconds: float = 0.0
    signed: bool = True  # False for methods whose scores have no direction (attention rollout)
    extra: dict = field(default_factory=dict)

    def top(self, n: int = 5) -> list[WordScore]:
        """The ``n`` words that push most toward the label."""
        return sorted(self.words, key=lambda w: -w.score)[:n]

    def to_html(self, path: str | os.PathLike | None = None) -> str:
        """A self-contained HTML page (highlighted words, one tab per class); also written to ``path`` if given."""
        from tamellm.explanations.render_html import render_html, save_html

        if path is not None:
            save_html(path, self)
        return render_html(self)

    def to_dict(self) -> dict:
        """JSON shape: {"label", "method", "words": [{"word", "score", ...}], ...}."""
        return {
            "text": self.text, "label": self.label, "method": self.method, "task": self.task, "model": self.model,
            "words": [w.to_dict() for w in self.words],
            "per_label": {k: [w.to_dict() for w in v] for k, v in self.per_label.items()},
            "probabilities": {k: round(float(v), 6) for k, v in self.probabilities.items()},
            "signed": self.signed, "seconds": round(self.seconds, 4), **({"extra": self.extra} if self.extra else {}),
        }
