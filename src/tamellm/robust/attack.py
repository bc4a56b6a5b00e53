"""A greedy word-substitution attack guided by the explain layer's attributions (TextFooler's recipe).

For each text the model classifies correctly: rank its words by how much they push
toward the predicted label (``tamellm.explanations``; integrated gradients by default,
where TextFooler deletes words one at a time), then, most important word first, try each
synonym and keep the one that lowers the label's probability most; stop when the label
flips (a success) or when ``max_fraction`` of the words are changed (a failure).
Stopwords are never changed, so the sentence keeps its structure.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tamellm.errors import TamellmError
from tamellm.robust.lexicon import STOPWORDS

logger = logging.getLogger(__name__)


@dataclass
class AttackResult:
    """Success rate and effort of the attack over the texts it tried."""

    success_rate: float
    attacked: int  # correctly classified texts the attack tried
    successes: int
    mean_words_changed: float  # over successes
    mean_fraction_changed: float  # words changed / words, over successes
    mean_queries: float  # model calls (texts predicted) per attacked text
    accuracy_under_attack: float  # of the attacked texts, still right after the attack
    method: str
    max_fraction: float
    examples: list[dict] = field(default_factory=list)

    def to_dict(self) -> dict:
        """A JSON-ready dict."""
        return dict(self.__dict__)


def _ranked_words(loaded: Any, text: str, method: str | None) -> tuple[list[tuple[int, int, str]], str]:
    """(start, end, word) most-supporting first, and the method used; left-to-right order when it cannot explain."""
    from tamellm.explanations import explain

    try:
        explanation = explain(loaded, text, method=method)
    except TamellmError as exc:
        logger.info("no attribution for %r (%s): words tried left to right", text[:40], exc)
        import re

        return [(m.start(), m.end(), m.group()) for m in re.finditer(r"[A-Za-z]+", text)], "order"
    words = sorted(explanation.words, key=lambda w: -w.score)
    return [(w.start, w.end, text[w.start:w.end]) for w in words], explanation.method


def _render(text: str, changes: dict[tuple[int, int], str]) -> str:
    for (start, end), new in sorted(changes.items(), reverse=True):
        text = text[:start] + new + text[end:]
    return text


def attack_one(loaded: Any, text: str, label: int, synonyms: Callable[[str], list[str]], method: str | None,
               max_fraction: float, max_candidates: int) -> dict:
    """Attack one correctly classified text; a dict with success, the adversarial text and the changes."""
    ranked, used = _ranked_words(loaded, text, method)
    budget = max(1, round(max_fraction * len(ranked)))
    changes: dict[tuple[int, int], str] = {}
    current = float(loaded.probabilities([text])[0, label])
    queries = 1
    for start, end, word in ranked:
        if len(changes) >= budget:
            break
        if word.lower() in STOPWORDS or not word.isalpha():
            continue
        options = [o for o in synonyms(word.lower()) if o.isalpha() and o != word.lower()][:max_candidates]
        if not options:
            continue
        variants = [_render(text, {**changes, (start, end): o}) for o in options]
        probs = loaded.probabilities(variants)
        queries += len(variants)
        flipped = [i for i in range(len(options)) if int(probs[i].argmax()) != label]
        best = min(flipped or range(len(options)), key=lambda i: float(probs[i, label]))
        if flipped or float(probs[best, label]) < current:
            changes[(start, end)] = options[best]
            current = float(probs[best, label])
        if flipped:
            return {"success": True, "text": text, "adversarial": variants[best], "changed": len(changes),
                    "words": len(ranked), "queries": queries, "method": used,
                    "swaps": [[text[s:e], new] for (s, e), new in sorted(changes.items())],
                    "label_probability": round(current, 4)}
    return {"success": False, "text": text, "adversarial": _render(text, changes), "changed": len(changes),
            "words": len(ranked), "queries": queries, "method": used, "label_probability": round(current, 4)}


def greedy_attack(loaded: Any, texts: list[str], labels: list[int], predictions: list[int],
                  synonyms: Callable[[str], list[str]], method: str | None = None, limit: int = 100,
                  max_fraction: float = 0.3, max_candidates: int = 8, seed: int = 0, keep_examples: int = 5,
                  ) -> AttackResult:
    """Attack up to ``limit`` correctly classified texts (a seeded sample) and summarise."""
    right = [i for i, (y, p) in enumerate(zip(labels, predictions, strict=True)) if y == p]
    chosen = sorted(random.Random(seed).sample(right, min(limit, len(right))))
    runs = [attack_one(loaded, texts[i], labels[i], synonyms, method, max_fraction, max_candidates)
            for i in chosen]
    wins = [r for r in runs if r["success"]]
    n = max(1, len(runs))
    return AttackResult(
        success_rate=len(wins) / n, attacked=len(runs), successes=len(wins),
        mean_words_changed=sum(r["changed"] for r in wins) / max(1, len(wins)),
        mean_fraction_changed=sum(r["changed"] / max(1, r["words"]) for r in wins) / max(1, len(wins)),
        mean_queries=sum(r["queries"] for r in runs) / n, accuracy_under_attack=1 - len(wins) / n if runs else 0.0,
        method=runs[0]["method"] if runs else (method or "default"), max_fraction=max_fraction,
        examples=sorted(wins, key=lambda r: r["changed"])[:keep_examples])
