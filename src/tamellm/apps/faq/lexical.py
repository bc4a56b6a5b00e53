"""The lexical half of retrieval: BM25 (bm25s) over the entries' questions, English-stemmed."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from tamellm.languages import lexical_tokens


def _bm25s():
    import bm25s

    # bm25s sets its logger to DEBUG with its own handler on import: every index build would print a line
    logging.getLogger("bm25s").setLevel(logging.WARNING)
    return bm25s


def _stemmer():
    try:
        import Stemmer
    except ImportError:  # stemming helps recall a little; BM25 still works without it
        return None
    return Stemmer.Stemmer("english")


def _tokens(texts: list[str], return_ids: bool):
    # Chinese-aware: jieba words for a batch holding Chinese, bm25s' English tokens otherwise (tamellm.languages)
    return lexical_tokens(texts, stemmer=_stemmer(), return_ids=return_ids)


class LexicalIndex:
    """BM25 scores of a query against every document, in document order."""

    def __init__(self, retriever, size: int) -> None:
        self.retriever = retriever
        self.size = size

    @classmethod
    def build(cls, documents: list[str]) -> LexicalIndex:
        """Index ``documents`` (one per FAQ entry)."""
        retriever = _bm25s().BM25()
        if documents:
            retriever.index(_tokens(documents, True), show_progress=False)
        return cls(retriever, len(documents))

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of ``query`` for each document (zeros when no query word is in the index)."""
        if not self.size:
            return np.zeros(0, dtype=np.float32)
        tokens = _tokens([query], False)[0]
        vocab = self.retriever.vocab_dict
        known = [t for t in tokens if t in vocab]
        if not known:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self.retriever.get_scores(known), dtype=np.float32)

    def save(self, folder: Path) -> None:
        """Write the index into ``folder`` (numpy arrays and JSON, no pickle)."""
        if self.size:
            self.retriever.save(str(folder), show_progress=False)

    @classmethod
    def load(cls, folder: Path, size: int) -> LexicalIndex:
        """Read an index written by ``save``."""
        bm25s = _bm25s()
        if not size:
            return cls(bm25s.BM25(), 0)
        return cls(bm25s.BM25.load(str(folder), show_progress=False), size)
