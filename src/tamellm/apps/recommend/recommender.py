"""``Recommender``: recommendations with their reasons for a known user, a new user's sentence, or nobody."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from tamellm.apps.recommend import store
from tamellm.apps.recommend.encoder import embed, words_that_matter
from tamellm.apps.recommend.fusion import top_k
from tamellm.apps.recommend.model import RecModel
from tamellm.apps.recommend.sources import SOURCES
from tamellm.errors import InputError

logger = logging.getLogger(__name__)
MAX_K = 200
MAX_TEXT_CHARS = 2000
LIKED_REASONS = 2


@dataclass
class Recommendation:
    """One recommended item: its id, score (higher is better), title and why it was chosen."""

    item: str
    score: float
    reasons: list[dict[str, Any]]
    title: str = ""

    def to_dict(self) -> dict:
        return {"item": self.item, "score": round(float(self.score), 6), "reasons": self.reasons}


@dataclass
class Recommendations:
    """The recommendations for one user (or sentence), best first; ``fallback`` says how an unknown user was served."""

    user: str
    items: list[Recommendation]
    fallback: str | None = None
    extra: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"user": self.user, "items": [r.to_dict() for r in self.items]}


class Recommender:
    """A built recommender folder, ready to answer.

        >>> Recommender.load("rec/").recommend(user="42", k=10).to_dict()
        >>> Recommender.load("rec/").recommend(text="space operas and 90s thrillers", k=10)
    """

    def __init__(self, model: RecModel, ranker: Any = None, folder: Path | None = None) -> None:
        self.model = model
        self.ranker = ranker
        self.folder = folder

    @classmethod
    def load(cls, path: str | os.PathLike, ranker: bool | None = None) -> Recommender:
        """Read the folder written by ``build_recommender``; ``ranker`` False skips the language-model ranker
        (None: use it when the build kept it on)."""
        model, ranker_dir = store.load(path)
        use = model.meta.get("ranker", {}).get("default", False) if ranker is None else ranker
        loaded = None
        if use and ranker_dir is not None:
            from tamellm.apps.recommend.ranker import Ranker

            loaded = Ranker.load(ranker_dir, model.meta.get("ranker", {}))
        elif ranker and ranker_dir is None:
            raise InputError(f"{path} has no language-model ranker", "build it with --ranker")
        return cls(model, loaded, Path(path))

    @property
    def users(self) -> list[str]:
        return self.model.events.users

    def __len__(self) -> int:
        return len(self.model.catalog)

    def warm_up(self) -> None:
        """Load the encoder now rather than on the first sentence."""
        embed(["warm up"], self.model.encoder)

    def recommend(self, user: str | int | None = None, text: str | None = None, k: int = 10,
                  reasons: bool = True, exclude_seen: bool = True) -> Recommendations:
        """The ``k`` best items for ``user`` (an id seen at build time) and/or ``text`` (a new user's sentence).

        An unknown user without text gets the most popular items (``fallback`` says so); with text,
        items whose text matches it, pulled further by the collaborative sources through the
        items nearest to the sentence.
        """
        if not isinstance(k, int) or isinstance(k, bool) or not 1 <= k <= MAX_K:
            raise InputError(f"k must be a whole number from 1 to {MAX_K}, got {k!r}", "ask for e.g. k=10")
        if text is not None and not isinstance(text, str):
            raise InputError("text must be a string", "describe what the user likes in a sentence")
        text = (text or "").strip() or None
        if text and len(text) > MAX_TEXT_CHARS:
            raise InputError(f"text is {len(text):,} characters; at most {MAX_TEXT_CHARS:,} are accepted",
                             "describe the user's taste in a sentence or two")
        model = self.model
        key = None if user is None else str(user).strip()
        row = model.user_index.get(key) if key else None
        fallback = None
        vector = None
        if text:
            vector = embed([text], model.encoder)[0]
            query = model.text_query(vector, model.history[[row]] if row is not None else None)
        elif row is not None:
            query = model.user_query(np.array([row]))
        else:
            fallback = (f"unknown user '{key}': the most popular items" if key else
                        "no user and no text: the most popular items")
            logger.info(fallback)
            query = model.empty_query()
        if fallback:
            scores = SOURCES["popularity"].score(model.arrays, query)
            parts = {"popularity": scores}
        else:
            scores, parts = model.fused(query)
        seen = model.seen[[row]] if (row is not None and exclude_seen) else None
        wanted = max(k, self.ranker.candidates if self.ranker else k)
        chosen = top_k(scores, wanted, seen)[0]
        chosen_scores = scores[0, chosen]
        if self.ranker is not None and fallback is None:
            chosen, chosen_scores = self.ranker.rerank(model, row, text, chosen, chosen_scores)
        chosen, chosen_scores = chosen[:k], chosen_scores[:k]
        profile = query.profiles[0]
        why = self._reasons(row, chosen, parts, profile, text, fallback) if reasons else [[] for _ in chosen]
        items = [Recommendation(model.catalog.ids[c], float(s), r, model.catalog.titles[c])
                 for c, s, r in zip(chosen, chosen_scores, why, strict=True)]
        return Recommendations(key or "", items, fallback)

    # --- reasons ------------------------------------------------------------------------------------

    def _reasons(self, row: int | None, chosen: np.ndarray, parts: dict[str, np.ndarray], profile: np.ndarray,
                 text: str | None, fallback: str | None) -> list[list[dict]]:
        model = self.model
        warm = model.warm_mask()
        counts = np.asarray((model.seen > 0).sum(axis=0)).ravel()
        history = model.events.history(row)[::-1] if row is not None else np.zeros(0, dtype=np.int32)
        history = history[:200]  # the latest events: enough to find what pulled an item in
        sim = None
        if "knn_indptr" in model.arrays:
            sim = SOURCES["item_knn"].similarity(model.arrays)
        words = words_that_matter([model.catalog.texts[c] for c in chosen], np.repeat(profile[None, :], len(chosen), 0),
                                  model.encoder) if np.any(profile) else [[] for _ in chosen]
        out = []
        for pos, c in enumerate(chosen):
            reasons: list[dict] = []
            if fallback:
                reasons.append({"type": "popular", "text": f"popular: chosen by {int(counts[c])} users ({fallback})",
                                "users": int(counts[c])})
                out.append(reasons)
                continue
            if not warm[c]:
                reasons.append({"type": "new_item", "text": "new item: recommended from its text alone"})
            reasons.extend(self._liked(history, c, sim, warm))
            if words[pos]:
                if text:
                    reasons.append({"type": "words", "words": words[pos],
                                    "text": "its text matches what you wrote: " + ", ".join(words[pos])})
                else:
                    reasons.append({"type": "words", "words": words[pos],
                                    "text": "its text matches your taste: " + ", ".join(words[pos])})
            lead = max(parts, key=lambda n: model.weights.get(n, 0.0) * float(parts[n][0, c]))
            if lead == "popularity" and counts[c]:
                reasons.append({"type": "popular", "text": f"popular: chosen by {int(counts[c])} users",
                                "users": int(counts[c])})
            out.append(reasons)
        return out

    def _liked(self, history: np.ndarray, c: int, sim: Any, warm: np.ndarray) -> list[dict]:
        """The history items that pulled item ``c`` in: collaborative similarity, else text similarity."""
        if not len(history):
            return []
        model = self.model
        strength = np.asarray(sim[history, c].todense()).ravel() if (sim is not None and warm[c]) else None
        kind = "chosen by the same users"
        if strength is None or not np.any(strength > 0):
            strength = model.item_vectors[history] @ model.item_vectors[c]
            kind = "similar text"
        best = np.argsort(-strength, kind="stable")[:LIKED_REASONS]
        return [{"type": "liked", "item": model.catalog.ids[history[b]], "title": model.catalog.titles[history[b]],
                 "weight": round(float(strength[b]), 4),
                 "text": f"because you liked {model.catalog.titles[history[b]]} ({kind})"}
                for b in best if strength[b] > 0]
