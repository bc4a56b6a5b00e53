"""Item and user texts as vectors through the public API, and which words of a text carry its match."""

from __future__ import annotations

import hashlib
import os
import re
from typing import Any

import numpy as np

DEFAULT_ENCODER = "minilm-l6"
_LOADED: dict[str, Any] = {}
WORD = re.compile(r"[\w'-]+", re.UNICODE)
LABEL = re.compile(r"([\w'-]+):")


def embed(texts: list[str], encoder: str = DEFAULT_ENCODER) -> np.ndarray:
    """L2-normalised vectors of ``texts`` (a row of zeros for an empty text)."""
    import tamellm.api as api

    if not texts:
        return np.zeros((0, 0), dtype=np.float32)
    if encoder not in _LOADED:  # resolving a model name per call costs more than the embedding itself
        _LOADED[encoder] = api.load(encoder, task="embed")
    filled = [t for t in texts if t.strip()]
    if not filled:
        return np.zeros((len(texts), 0), dtype=np.float32)
    vectors = np.asarray(_LOADED[encoder].predict(filled).vectors, dtype=np.float32)
    out = np.zeros((len(texts), vectors.shape[1]), dtype=np.float32)
    out[[i for i, t in enumerate(texts) if t.strip()]] = vectors
    return out


def item_vectors(texts: list[str], encoder: str = DEFAULT_ENCODER, cache: bool = True) -> np.ndarray:
    """``embed`` for a whole catalogue, kept in ``$TAMELLM_HOME/recommend`` by (encoder, texts) hash.

    Embedding ten thousand item texts takes minutes on a busy laptop CPU; an evaluation and
    the build after it read the same texts, so the second one reads the vectors from disk.
    """
    if not cache:
        return embed(texts, encoder)
    from tamellm.paths import cache_dir

    digest = hashlib.sha256("\x1f".join([encoder, *texts]).encode("utf-8")).hexdigest()[:32]
    path = cache_dir("recommend") / f"vectors-{digest}.npy"
    if path.is_file():
        try:
            vectors = np.load(path, allow_pickle=False)
            if vectors.shape[0] == len(texts):
                return vectors
        except (OSError, ValueError):
            pass  # a damaged cache file is rebuilt below
    vectors = embed(texts, encoder)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.npy")
    np.save(tmp, vectors)
    os.replace(tmp, path)
    return vectors


def words_that_matter(texts: list[str], targets: np.ndarray, encoder: str, top: int = 3,
                      max_words: int = 16) -> list[list[str]]:
    """For each text, the words whose removal lowers its similarity to its target vector most (occlusion).

    Occlusion is the explanation layer's model-agnostic method; it is run here over the
    encoder's cosine similarity (one batched embedding call for all texts), which is what
    the content score is, rather than over a classifier's probability.
    """
    variants: list[str] = []
    spans: list[tuple[int, list[str]]] = []
    for text in texts:
        labels = set(LABEL.findall(text))  # 'genres:' names a column of the item file, not what the item is about
        words = list(dict.fromkeys(w for w in WORD.findall(text)
                                   if len(w) > 2 and not w.isdigit() and w not in labels))[:max_words]
        spans.append((len(variants), words))
        variants.append(text)
        for word in words:
            variants.append(re.sub(rf"(?<![\w'-]){re.escape(word)}(?![\w'-])", " ", text))
    vectors = embed(variants, encoder)
    out = []
    for (start, words), target in zip(spans, targets, strict=True):
        if not words or not np.any(target):
            out.append([])
            continue
        base = float(vectors[start] @ target)
        drops = [base - float(vectors[start + 1 + j] @ target) for j in range(len(words))]
        order = np.argsort(drops)[::-1]
        out.append([words[j] for j in order[:top] if drops[j] > 0])
    return out
