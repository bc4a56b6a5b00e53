"""Choosing the handoff threshold from the FAQ itself, with no labelled questions.

The confidence of an answer is the dense similarity of the question to the best entry.
Questions the FAQ answers are simulated by (a) the other questions of an entry that shares
its answer, when the FAQ has such variants, and (b) rewordings of each question (function
words dropped often, content words rarely). Questions it does not answer are simulated by
each question against a random entry with another answer. The threshold sits midway between
the 95th percentile of the unrelated scores and the 5th percentile of the rewordings. The cut
against the nearest entry with another answer (a neighbouring topic) is reported too, but not
used: on BankFAQs that neighbour is often a near-duplicate question and the cut separates nothing.
"""

from __future__ import annotations

import random

import numpy as np

from tamellm.apps.faq.index import FaqIndex, embed

DEFAULT_THRESHOLD = 0.5  # used when the FAQ is too small to calibrate on
MIN_EXAMPLES = 4
MAX_SAMPLES = 400  # enough for a stable threshold; keeps a build of a large FAQ quick
MAX_FALSE_HANDOFF = 0.05
MIN_VARIANTS = 64


def _drop_words(text: str, rng: random.Random, keep: float = 0.6) -> str:
    """A rewording: short (function) words dropped with probability 1 - ``keep``, content words rarely."""
    words = text.split()
    if len(words) <= 2:
        return text
    kept = [w for w in words if rng.random() < (0.75 if len(w) > 3 else keep)]
    if not any(len(w) > 3 for w in kept):  # keep what the question is about
        kept = [w for w in words if len(w) > 3] or words
    return " ".join(kept)


def best_threshold(positives: np.ndarray, negatives: np.ndarray) -> tuple[float, float]:
    """The cut (midway between two observed scores) with the highest balanced accuracy, and that accuracy."""
    values = np.unique(np.concatenate([positives, negatives]))
    cuts = (values[:-1] + values[1:]) / 2 if len(values) > 1 else values
    best, best_acc = float(cuts[0]), -1.0
    for cut in cuts:
        acc = ((positives >= cut).mean() + (negatives < cut).mean()) / 2
        if acc > best_acc:
            best, best_acc = float(cut), float(acc)
    return best, best_acc


def calibrate(index: FaqIndex, seed: int = 0) -> dict:
    """Calibrate the handoff threshold on ``index``; returns ``{"threshold", "balanced_accuracy", ...}``."""
    n = len(index)
    rng = random.Random(seed)
    sample = sorted(rng.sample(range(n), min(n, MAX_SAMPLES)))
    keys: dict[str, int] = {}
    answer_key = np.array([keys.setdefault(" ".join(e.answer.split()).casefold(), len(keys))
                           for e in index.entries])
    sim = index.question_vectors[sample] @ index.question_vectors.T  # the same confidence that search uses
    positives: list[float] = []
    negatives: list[float] = []
    unrelated: list[float] = []
    for row, i in enumerate(sample):
        same = answer_key == answer_key[i]
        siblings = same.copy()
        siblings[i] = False
        if siblings.any():
            # a variant's confidence when only its siblings are indexed: their best similarity
            positives.append(float(sim[row][siblings].max()))
        if (~same).any():
            negatives.append(float(sim[row][~same].max()))
            unrelated.append(float(rng.choice(sim[row][~same])))
    if sample:
        # several variants per question on a small FAQ, so that a few entries still give a stable threshold
        variants = min(8, max(1, -(-MIN_VARIANTS // len(sample))))
        targets = [i for i in sample for _ in range(variants)]
        vectors = embed([_drop_words(index.entries[i].question, rng) for i in targets], index.encoder)
        for vector, i in zip(vectors, targets, strict=True):
            positives.append(float(index.question_vectors[i] @ vector))
    pos, neg = np.array(positives), np.array(negatives)
    if len(pos) < MIN_EXAMPLES or len(neg) < MIN_EXAMPLES:
        return {"threshold": DEFAULT_THRESHOLD, "method": "default (too few entries to calibrate)",
                "positives": len(pos), "negatives": len(neg)}
    cut, accuracy = best_threshold(pos, neg)
    # The nearest entry with another answer is too hard a negative (often a near-duplicate question: on
    # BankFAQs its cut separates nothing), so it is only reported. The threshold sits midway between what
    # an unrelated entry scores (95th percentile) and what rewordings score (5th percentile).
    low = float(np.quantile(unrelated, 0.95))
    high = float(np.quantile(pos, MAX_FALSE_HANDOFF))
    threshold = (low + high) / 2
    return {"threshold": round(threshold, 4),
            "method": "simulated questions: midway between unrelated entries (p95) and rewordings "
                      f"(p{MAX_FALSE_HANDOFF * 100:.0f})",
            "separating_cut": round(cut, 4), "balanced_accuracy": round(accuracy, 4),
            "unrelated_p95": round(low, 4), "rewording_low": round(high, 4),
            "positives": len(pos), "negatives": len(neg),
            "positive_median": round(float(np.median(pos)), 4), "negative_median": round(float(np.median(neg)), 4)}


FUSION_WEIGHTS = tuple(i / 10 for i in range(11))


def simulated_queries(index: FaqIndex, rng: random.Random, limit: int = MAX_SAMPLES
                      ) -> list[tuple[str, set[int], int | None]]:
    """Questions the FAQ should answer, made from the FAQ alone: ``(text, right positions, position to hide)``.

    Another question of an entry sharing the answer (the question itself hidden) when the FAQ has such
    variants, and a rewording of every sampled question (any entry worded the same way counts as right).
    """
    def key(text: str) -> str:
        return " ".join(text.split()).casefold()

    by_answer: dict[str, list[int]] = {}
    by_question: dict[str, list[int]] = {}
    for i, entry in enumerate(index.entries):
        by_answer.setdefault(key(entry.answer), []).append(i)
        by_question.setdefault(key(entry.question), []).append(i)
    sample = sorted(rng.sample(range(len(index)), min(len(index), limit)))
    out: list[tuple[str, set[int], int | None]] = []
    for i in sample:
        entry = index.entries[i]
        siblings = {j for j in by_answer[key(entry.answer)]
                    if key(index.entries[j].question) != key(entry.question)}
        if siblings:
            out.append((entry.question, siblings, i))
        out.append((_drop_words(entry.question, rng), set(by_question[key(entry.question)]), None))
    return out


def _mean_reciprocal_rank(scores: np.ndarray, targets: list[set[int]]) -> float:
    """MRR of the best right entry per row; ties with wrong entries count half (no lucky tie-breaks)."""
    total = 0.0
    for row, right in zip(scores, targets, strict=True):
        wrong = np.ones(len(row), dtype=bool)
        wrong[list(right)] = False
        best = row[list(right)].max()
        total += 1.0 / (1 + (row[wrong] > best).sum() + 0.5 * (row[wrong] == best).sum())
    return total / max(len(targets), 1)


def calibrate_fusion(index: FaqIndex, seed: int = 0) -> dict:
    """The dense weight of score fusion that ranks simulated questions best (MRR), from the FAQ alone.

    Ties go to the weight nearest 0.5 (both retrievers heard); reciprocal rank fusion's MRR on the same
    questions is reported beside it. Too small a FAQ keeps reciprocal rank fusion.
    """
    from tamellm.apps.faq.fusion import fuse, score_fusion

    if len(index) < MIN_EXAMPLES:
        return {"method": "rrf", "why": "too few entries to calibrate a weight"}
    queries = simulated_queries(index, random.Random(seed))
    vectors = embed([text for text, _, _ in queries], index.encoder)
    dense = vectors @ index.question_vectors.T
    lexical = np.stack([index.lexical.scores(text) for text, _, _ in queries]).astype(np.float64)
    for row, (_, _, hidden) in enumerate(queries):
        if hidden is not None:  # the asked question itself is not in the index it is asked against
            dense[row, hidden] = lexical[row, hidden] = -np.inf
    targets = [right for _, right, _ in queries]

    def hide(scores: np.ndarray) -> np.ndarray:
        return np.where(np.isfinite(dense), scores, -np.inf)

    safe_dense, safe_lexical = np.where(np.isfinite(dense), dense, -1.0), np.where(np.isfinite(lexical), lexical, 0.0)
    by_weight = {w: _mean_reciprocal_rank(hide(np.stack([score_fusion(d, lx, w) for d, lx in
                                                         zip(safe_dense, safe_lexical, strict=True)])), targets)
                 for w in FUSION_WEIGHTS}
    best = max(by_weight.values())
    # weights within a quarter of one question's reciprocal rank of the best are equally good
    near = 0.25 / len(queries)
    weight = min((w for w, mrr in by_weight.items() if mrr >= best - near), key=lambda w: abs(w - 0.5))
    rrf = _mean_reciprocal_rank(hide(np.stack([fuse(d, lx, {"method": "rrf"}) for d, lx in
                                               zip(safe_dense, safe_lexical, strict=True)])), targets)
    return {"method": "score", "dense_weight": weight, "simulated_queries": len(queries),
            "variant_queries": sum(hidden is not None for _, _, hidden in queries),
            "mrr_by_dense_weight": {str(w): round(float(m), 4) for w, m in by_weight.items()},
            "rrf_mrr": round(float(rrf), 4)}
