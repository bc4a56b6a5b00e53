"""Measuring the assistant on labelled questions: recall@1, recall@5, MRR and handoff decisions."""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tamellm.apps.faq.entries import text_values
from tamellm.errors import DataError

# Values of the expected column that mean "the FAQ does not answer this: hand off".
NO_ANSWER = {"", "none", "handoff", "-", "nan"}


@dataclass
class LabelledQuestion:
    """A question and the ids that answer it correctly (empty: the assistant should hand off)."""

    question: str
    expected: frozenset[str]


def read_questions(data: str | os.PathLike, entries: Sequence, question_column: str | None = None,
                   expected_column: str | None = None) -> list[LabelledQuestion]:
    """Questions with their expected entry ids, from a file with a question column and an id or answer column.

    An answer text counts every entry with that answer (whitespace and case ignored) as correct; an
    empty value (or ``none`` / ``handoff``) means the question should be handed off.
    """
    from tamellm.data import read_table

    source = str(data)
    frame = read_table(Path(data))
    columns = [str(c) for c in frame.columns]
    frame.columns = columns
    lower = {c.lower(): c for c in columns}
    q_col = question_column or next((lower[n] for n in ("question", "query", "text", "prompt") if n in lower), None)
    e_col = expected_column or next((lower[n] for n in ("id", "expected_id", "answer_id", "expected", "answer")
                                     if n in lower), None)
    for role, col in (("question", q_col), ("expected id or answer", e_col)):
        if col is None or col not in columns:
            raise DataError(f"{source}: no {role} column among {columns}",
                            "name the columns 'question' and 'id' (or 'answer'), or pass --question-column / "
                            "--expected-column")
    by_id = {e.id for e in entries}
    by_answer: dict[str, set[str]] = {}
    for e in entries:
        by_answer.setdefault(" ".join(e.answer.split()).casefold(), set()).add(e.id)
    out, unknown = [], []
    for row, (question, value) in enumerate(zip(text_values(frame[q_col]), text_values(frame[e_col]), strict=True)):
        if not question.strip():
            raise DataError(f"{source}: empty question on row {row + 2}", "fill or drop the row")
        value = value.strip()
        if value.casefold() in NO_ANSWER:
            expected: set[str] = set()
        elif value in by_id:
            expected = {value}
        elif " ".join(value.split()).casefold() in by_answer:
            expected = by_answer[" ".join(value.split()).casefold()]
        else:
            unknown.append(row + 2)
            continue
        out.append(LabelledQuestion(question.strip(), frozenset(expected)))
    if unknown:
        raise DataError(f"{source}: column '{e_col}' names no FAQ id or answer on row(s) {unknown[:5]}",
                        "use an id of the index, an answer's exact text, or leave it empty for 'should hand off'")
    return out


def score(assistant, questions: list[LabelledQuestion], mode: str | None = None, k: int = 5) -> dict:
    """recall@1, recall@k, MRR (over answerable questions), handoff rate and handoff accuracy (over all)."""
    reciprocal, hit1, hitk, handoffs, right_decisions, latencies = [], [], [], [], [], []
    for item in questions:
        start = time.perf_counter()
        result = assistant.retrieve(item.question, top_k=max(k, 10), mode=mode)
        latencies.append(time.perf_counter() - start)
        ids = [a.id for a in result.answers]
        handoffs.append(result.handoff)
        if item.expected:
            first = next((r for r, i in enumerate(ids, 1) if i in item.expected), None)
            reciprocal.append(1 / first if first else 0.0)
            hit1.append(first == 1)
            hitk.append(first is not None and first <= k)
            # handing off is right when the FAQ has no answer, or when the best answer would be wrong
            right_decisions.append(result.handoff != (first == 1))
        else:
            right_decisions.append(result.handoff)
    answerable = len(hit1)

    def mean(values: list) -> float | None:
        return round(float(np.mean(values)), 4) if values else None

    return {"questions": len(questions), "answerable": answerable,
            "recall@1": mean(hit1), f"recall@{k}": mean(hitk), "mrr": mean(reciprocal),
            "handoff_rate": mean(handoffs), "handoff_accuracy": mean(right_decisions),
            "p50_ms": round(float(np.median(latencies)) * 1000, 2) if latencies else None}


def evaluate(assistant, data: str | os.PathLike, question_column: str | None = None,
             expected_column: str | None = None, mode: str | None = None) -> dict:
    """Metrics of ``assistant`` on the labelled questions in ``data``."""
    questions = read_questions(data, assistant.index.entries, question_column, expected_column)
    return {"data": str(data), "mode": mode or assistant.mode, "threshold": assistant.threshold,
            **score(assistant, questions, mode)}
