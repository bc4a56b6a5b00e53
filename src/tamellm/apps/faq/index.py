"""The FAQ index in memory: entries, their dense vectors and a BM25 index, and hybrid search over them."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from tamellm.apps.faq.entries import FaqEntry
from tamellm.apps.faq.fusion import fuse
from tamellm.apps.faq.lexical import LexicalIndex
from tamellm.errors import InputError

DEFAULT_ENCODER = "minilm-l6"
Mode = Literal["hybrid", "dense", "bm25"]
MODES = ("hybrid", "dense", "bm25")


_ENCODERS: dict[str, Any] = {}
# A question or two is embedded on one torch thread. Measured on the 2-core machine under load (load
# average ~5): minilm-l6 on one question took ~710 ms with torch's 2 threads and ~28 ms with 1 (the
# threads wait for each other when another process holds a core); a short sequence has too little
# work per matrix product to gain from splitting it anyway.
SINGLE_THREAD_TEXTS = 2
_THREADS = threading.RLock()


@contextmanager
def _one_thread(texts: int) -> Iterator[None]:
    """torch on one thread while embedding ``texts`` texts when they are few (restored after)."""
    import torch

    if texts > SINGLE_THREAD_TEXTS or torch.get_num_threads() == 1:
        yield
        return
    with _THREADS:  # the setting is process-wide: one switch at a time, always restored
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            yield
        finally:
            torch.set_num_threads(threads)


def embed(texts: list[str], encoder: str) -> np.ndarray:
    """L2-normalised vectors of ``texts`` from ``encoder`` (catalog name or folder), through the public API."""
    import tamellm.api as api

    if not texts:
        return np.zeros((0, 0), dtype=np.float32)
    if encoder not in _ENCODERS:  # keep the loaded model: resolving a name on every question costs more than asking
        _ENCODERS[encoder] = api.load(encoder, task="embed")
    with _one_thread(len(texts)):
        return np.asarray(_ENCODERS[encoder].predict(texts).vectors, dtype=np.float32)


def lexical_document(entry: FaqEntry) -> str:
    """What BM25 reads of an entry: its question.

    Adding the answer's words drowned the question's on BankFAQs (BM25 recall@1 0.61 against 0.84).
    """
    return entry.question


@dataclass
class Hit:
    """One retrieved entry: its position in the index, its fused score and each retriever's score."""

    position: int
    score: float
    dense: float
    lexical: float


@dataclass
class FaqIndex:
    """Entries with their question vectors (rows follow ``entries``) and a BM25 index of the questions."""

    entries: list[FaqEntry]
    question_vectors: np.ndarray
    lexical: LexicalIndex
    encoder: str = DEFAULT_ENCODER
    meta: dict = field(default_factory=dict)

    @classmethod
    def build(cls, entries: list[FaqEntry], encoder: str = DEFAULT_ENCODER) -> FaqIndex:
        """Embed and index ``entries`` with ``encoder``."""
        # Answers are not embedded: on BankFAQs question-to-answer similarity added nothing to
        # question-to-question (recall@1 0.811 either way) and embedding them doubled the build time.
        questions = embed([e.question for e in entries], encoder)
        return cls(list(entries), questions, LexicalIndex.build([lexical_document(e) for e in entries]), encoder)

    def __len__(self) -> int:
        return len(self.entries)

    def ids(self) -> list[str]:
        return [e.id for e in self.entries]

    def dense_scores(self, vector: np.ndarray) -> np.ndarray:
        """Cosine similarity of a query vector to each entry's question."""
        import torch

        # torch on one thread rather than numpy: numpy's BLAS threads showed the same waiting as torch's
        # under load (a 1,436 × 384 product took 2-16 ms against 0.2 ms on one thread)
        with _one_thread(1):
            query = torch.from_numpy(np.ascontiguousarray(vector, dtype=np.float32))
            return (torch.from_numpy(np.ascontiguousarray(self.question_vectors, dtype=np.float32)) @ query).numpy()

    def search(self, query: str, k: int = 5, mode: Mode = "hybrid", context: str | None = None,
               context_weight: float = 0.5) -> list[Hit]:
        """The ``k`` best entries for ``query``, best first.

        ``hybrid`` fuses the dense and BM25 scores as the index metadata says (``fusion``: a weighted
        sum calibrated at build time, or reciprocal rank fusion for indexes without one);
        ``dense`` ranks by cosine similarity, ``bm25`` by BM25 score (the score is that retriever's).
        ``context`` (an earlier question) is added to the query with ``context_weight``: its vector to
        the query's vector and its BM25 scores to the query's, so the new question still leads.
        """
        if mode not in MODES:
            raise InputError(f"Unknown retrieval mode '{mode}'", f"use one of {', '.join(MODES)}")
        if not self.entries:
            raise InputError("The FAQ index has no entries", "add entries, or build it again from a FAQ file")
        if context:
            vectors = embed([query, context], self.encoder)
            vector = vectors[0] + context_weight * vectors[1]
            dense = self.dense_scores(vector / max(float(np.linalg.norm(vector)), 1e-9))
            lexical = self.lexical.scores(query) + context_weight * self.lexical.scores(context)
        else:
            dense = self.dense_scores(embed([query], self.encoder)[0])
            lexical = self.lexical.scores(query)
        if mode == "dense":
            score = dense
        elif mode == "bm25":
            score = lexical
        else:
            score = fuse(dense, lexical, self.meta.get("fusion"))
        order = np.argsort(-score, kind="stable")[: max(1, k)]
        return [Hit(int(i), float(score[i]), float(dense[i]), float(lexical[i])) for i in order]

    def with_entries(self, added: list[FaqEntry], removed: set[str]) -> FaqIndex:
        """A new index with ``removed`` ids dropped and ``added`` entries embedded and appended."""
        keep = [i for i, e in enumerate(self.entries) if e.id not in removed]
        entries = [self.entries[i] for i in keep] + list(added)
        new_q = embed([e.question for e in added], self.encoder) if added else None

        def stack(old: np.ndarray, new: np.ndarray | None) -> np.ndarray:
            kept = old[keep] if len(old) else old
            if new is None:
                return kept
            return new if not len(kept) else np.vstack([kept, new])

        lexical = LexicalIndex.build([lexical_document(e) for e in entries])
        return FaqIndex(entries, stack(self.question_vectors, new_q), lexical, self.encoder, dict(self.meta))
