"""Merge sub-word pieces into words, using the tokenizer's character offsets.

A word is what the tokenizer's pre-tokenizer calls a word (``word_ids()`` of a fast
tokenizer): "don't" becomes "don", "'", "t" for BERT, " great" one word for GPT-2.
Special tokens ([CLS], [SEP], chat-template tokens) belong to no word. A word's score
is the sum of its pieces' scores: the methods used here are additive, so the sum keeps
the meaning "how much this word moved the output".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Word:
    """A word of the text: its characters and the token positions that make it up."""

    text: str
    start: int
    end: int
    tokens: list[int]


def words_from_encoding(text: str, offsets: list[tuple[int, int]], word_ids: list[int | None],
                        span: tuple[int, int] | None = None) -> list[Word]:
    """Group token positions into words; only tokens inside ``span`` (chars) count when given."""
    lo, hi = span if span is not None else (0, len(text))
    groups: dict[int, list[int]] = {}
    for position, (word_id, (start, end)) in enumerate(zip(word_ids, offsets, strict=True)):
        if word_id is None or end <= start or start < lo or end > hi:
            continue
        groups.setdefault(word_id, []).append(position)
    words = []
    for positions in groups.values():
        start = min(offsets[p][0] for p in positions)
        end = max(offsets[p][1] for p in positions)
        # Byte-level BPE offsets include the leading space: trim it from the shown word.
        while start < end and text[start].isspace():
            start += 1
        words.append(Word(text[start:end], start, end, positions))
    return sorted(words, key=lambda w: w.start)


def merge_scores(token_scores: np.ndarray, words: list[Word]) -> np.ndarray:
    """Word scores from token scores (``[..., n_tokens]`` -> ``[..., n_words]``): sum of pieces."""
    return np.stack([token_scores[..., w.tokens].sum(axis=-1) for w in words], axis=-1)


def feature_mask(words: list[Word], n_tokens: int) -> np.ndarray:
    """Token position -> word index, -1 for positions that are not part of any word."""
    mask = np.full(n_tokens, -1, dtype=np.int64)
    for index, word in enumerate(words):
        mask[word.tokens] = index
    return mask
