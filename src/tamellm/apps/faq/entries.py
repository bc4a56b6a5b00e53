"""Reading a FAQ file into entries: the question and answer columns, ids, duplicates and empty rows."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

from tamellm.errors import DataError


@dataclass(frozen=True)
class FaqEntry:
    """One FAQ entry: a stable id (a string), a question and its answer."""

    id: str
    question: str
    answer: str

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


@dataclass
class FaqFileReport:
    """What reading a FAQ file kept and dropped, with 1-based file rows (header = row 1)."""

    source: str
    rows: int
    question_column: str
    answer_column: str
    id_column: str | None
    kept: int = 0
    empty_answers: list[int] = field(default_factory=list)
    empty_questions: list[int] = field(default_factory=list)
    duplicates: list[tuple[int, int]] = field(default_factory=list)  # (row, row of the kept copy)
    conflicts: list[tuple[int, int]] = field(default_factory=list)  # same question, another answer

    def warnings(self) -> list[str]:
        """One line per kind of problem, naming the file rows (at most 5 each)."""
        lines = []
        if self.empty_answers:
            lines.append(f"{len(self.empty_answers)} row(s) with an empty answer skipped: "
                         f"rows {self.empty_answers[:5]}")
        if self.empty_questions:
            lines.append(f"{len(self.empty_questions)} row(s) with an empty question skipped: "
                         f"rows {self.empty_questions[:5]}")
        if self.duplicates:
            shown = ", ".join(f"{a} = {b}" for a, b in self.duplicates[:5])
            lines.append(f"{len(self.duplicates)} duplicate row(s) skipped (same question and answer): {shown}")
        if self.conflicts:
            shown = ", ".join(f"{a} vs {b}" for a, b in self.conflicts[:5])
            lines.append(f"{len(self.conflicts)} question(s) repeated with a different answer (both kept): {shown}")
        return lines

    def to_dict(self) -> dict:
        return {**asdict(self), "warnings": self.warnings()}


def text_values(series) -> list[str]:
    """A column as strings: missing values empty, whole floats without '.0' (a numeric id column read with gaps)."""
    import pandas as pd

    out = []
    for value in series.tolist():
        if value is None or (not isinstance(value, str) and pd.isna(value)):
            out.append("")
        elif isinstance(value, float) and value.is_integer():
            out.append(str(int(value)))
        else:
            out.append(str(value))
    return out


def _normal(text: str) -> str:
    return " ".join(text.split()).casefold()


def _pick(columns: list[str], given: str | None, names: tuple[str, ...], role: str, source: str,
          avoid: str | None = None) -> str | None:
    lower = {str(c).strip().lower(): c for c in columns}
    if given is not None:
        if given in columns:
            return given
        if given.lower() in lower:
            return lower[given.lower()]
        raise DataError(f"{source}: no column named '{given}' for the {role}s",
                        f"columns are {', '.join(map(str, columns))}")
    for name in names:
        if name in lower and lower[name] != avoid:
            return lower[name]
    return None


def read_faq(path: str | os.PathLike, question_column: str | None = None, answer_column: str | None = None,
             id_column: str | None = None) -> tuple[list[FaqEntry], FaqFileReport]:
    """Entries of a FAQ file (csv, tsv, jsonl, json, parquet) and a report of what was skipped.

    Columns are found by name as the data layer finds prompt/response columns (``question``,
    ``prompt``, ... and ``answer``, ``response``, ...; any case). Without an ``id`` column an
    entry's id is its 0-based row number. Empty answers or questions and exact duplicates are
    skipped and reported; a FAQ with no usable row raises DataError.
    """
    from tamellm.data import read_table
    from tamellm.data.schemas import PROMPT_NAMES, RESPONSE_NAMES

    source = str(path)
    frame = read_table(Path(path))
    columns = [str(c) for c in frame.columns]
    frame.columns = columns
    q_col = _pick(columns, question_column, ("question", "questions", "q", *PROMPT_NAMES, "title"), "question",
                  source)
    a_col = _pick(columns, answer_column, ("answer", "answers", "a", *RESPONSE_NAMES), "answer", source, avoid=q_col)
    missing = [role for role, col in (("question", q_col), ("answer", a_col)) if col is None]
    if missing:
        raise DataError(f"{source}: no {' or '.join(missing)} column among {columns}",
                        "name the columns 'question' and 'answer' (optionally 'id'), "
                        "or pass --question-column / --answer-column")
    i_col = _pick(columns, id_column, ("id", "faq_id", "entry_id"), "id", source)
    report = FaqFileReport(source, len(frame), q_col, a_col, i_col)
    questions = text_values(frame[q_col])
    answers = text_values(frame[a_col])
    ids = text_values(frame[i_col]) if i_col else [str(i) for i in range(len(frame))]
    if i_col:
        seen_ids: dict[str, int] = {}
        for row, entry_id in enumerate(ids):
            if not entry_id.strip():
                raise DataError(f"{source}: column '{i_col}' is empty on row {row + 2}", "give every entry an id")
            if entry_id in seen_ids:
                raise DataError(f"{source}: id '{entry_id}' appears on rows {seen_ids[entry_id] + 2} and {row + 2}",
                                "ids must be unique")
            seen_ids[entry_id] = row
    entries: list[FaqEntry] = []
    pairs: dict[tuple[str, str], int] = {}
    by_question: dict[str, int] = {}
    for row, (question, answer, entry_id) in enumerate(zip(questions, answers, ids, strict=True)):
        file_row = row + 2
        if not answer.strip():
            report.empty_answers.append(file_row)
            continue
        if not question.strip():
            report.empty_questions.append(file_row)
            continue
        key = (_normal(question), _normal(answer))
        if key in pairs:
            report.duplicates.append((file_row, pairs[key]))
            continue
        pairs[key] = file_row
        if key[0] in by_question:
            report.conflicts.append((file_row, by_question[key[0]]))
        by_question.setdefault(key[0], file_row)
        entries.append(FaqEntry(entry_id.strip(), question.strip(), answer.strip()))
    report.kept = len(entries)
    if not entries:
        raise DataError(f"{source}: no entry with both a question and an answer ({len(frame)} rows read)",
                        "fill the question and answer columns")
    return entries, report
