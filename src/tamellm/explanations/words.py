"""Merge sub-word pieces into words, using the tokenizer's character offsets.

A word is what the tokenizer's pre-tokenizer calls a word (``word_ids()`` of a fast
tokenizer): "don't" becomes "don", "'", "t" for BERT, " great" one word for GPT-2.
Special tokens ([CLS], [SEP], chat-template tokens) belong to no word. A word's score
is the sum of its pieces' scores: the methods used here are additive, so the sum keeps
the meaning "how much this word moved the output".

Chinese has no spaces, so pre-tokenizers give no words: BERT makes each character a
word, a SentencePiece tokenizer makes a whole clause one. Text with Chinese characters
is therefore grouped by jieba's words instead (``tamellm.languages.word_spans``): a
token belongs to the word its characters overlap, and jieba words that share a token
(a piece "吃了" across 难吃 | 了) become one word, so every token still counts once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tamellm.languages import word_spans
from tamellm.languages.detect import script_of


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
    if any(script_of(c) == "Han" for c in text[lo:hi]):
        return _segmented_words(text, offsets, word_ids, lo, hi)
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


def _segmented_words(text: str, offsets: list[tuple[int, int]], word_ids: list[int | None], lo: int,
                     hi: int) -> list[Word]:
    """Words of ``text[lo:hi]`` by jieba segmentation; tokens join the segmented words they overlap."""
    spans = [(start + lo, end + lo) for _, start, end in word_spans(text[lo:hi])]
    parent = list(range(len(spans)))  # union-find: segmented words merged by a shared token

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    token_words: dict[int, list[int]] = {}
    for position, (word_id, (start, end)) in enumerate(zip(word_ids, offsets, strict=True)):
        if word_id is None or end <= start or start < lo or end > hi:
            continue
        hit = [i for i, (s, e) in enumerate(spans) if s < end and start < e]
        if hit:
            token_words[position] = hit
            for other in hit[1:]:
                parent[root(other)] = root(hit[0])
    groups: dict[int, list[int]] = {}
    for position, hit in token_words.items():
        groups.setdefault(root(hit[0]), []).append(position)
    words = []
    for members, positions in groups.items():
        joined = [spans[i] for i in range(len(spans)) if root(i) == members]
        start, end = min(s for s, _ in joined), max(e for _, e in joined)
        words.append(Word(text[start:end], start, end, sorted(positions)))
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
