"""Finding the text and label columns of a table, and saying why.

:func:`infer_columns` picks the text column (a string column, by name first, then by
length) and the label column (a column with few distinct values, by name first), and
returns a :class:`ColumnChoice` whose ``reason_text`` / ``reason_label`` are sentences
meant for the user. A label column whose values are lists, or strings joined by
``|`` or ``;``, is multi-label.
"""

from __future__ import annotations

import logging
import math
from dataclasses import asdict, dataclass
from typing import Any

import pandas as pd

from tamellm.data.colstats import (
    ColumnProfile,
    few_values,
    looks_like_id,
    name_rank,
    profile_column,
    split_labels,
)
from tamellm.errors import DataError, did_you_mean

logger = logging.getLogger(__name__)

TEXT_NAMES: tuple[str, ...] = (
    "text",
    "sentence",
    "review",
    "content",
    "question",
    "utterance",
    "document",
    "body",
    "comment",
    "message",
    "tweet",
    "query",
    "sentence1",
    "text_a",
    "prompt",
    "input",
)
LABEL_NAMES: tuple[str, ...] = (
    "label",
    "labels",
    "class",
    "category",
    "intent",
    "sentiment",
    "target",
    "y",
    "classes",
    "categories",
    "topic",
    "emotion",
    "tag",
    "tags",
    "polarity",
    "topics",
    "intents",
    "emotions",
)


@dataclass(frozen=True)
class ColumnChoice:
    """The columns a task reads: ``text``, ``label`` (None when there is none) and why.

    ``multi_label`` is True when each row holds several labels: a list, or a string
    joined by ``label_delimiter``.
    """

    text: str
    label: str | None
    reason_text: str
    reason_label: str
    multi_label: bool = False
    label_delimiter: str | None = None

    def label_values(self, df: pd.DataFrame) -> pd.Series:
        """The labels of ``df``: scalars, or lists of strings when multi-label; missing stays NaN."""
        if self.label is None:
            raise DataError("no label column was chosen", "pass label_column= to name it")
        require_column(df, self.label, "label")
        series = df[self.label]
        if not self.multi_label:
            return series
        return series.map(lambda v: split_labels(v, self.label_delimiter), na_action="ignore")

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of the choice."""
        return asdict(self)


def require_column(df: pd.DataFrame, name: str, role: str, source: str | None = None) -> None:
    """Raise DataError if ``df`` has no column ``name``, listing the columns and the nearest one."""
    if name in df.columns:
        return
    where = source or df.attrs.get("tamellm", {}).get("source", "the data")
    available = [str(c) for c in df.columns]
    raise DataError(
        f"{role} column '{name}' not found in {where}",
        "available columns: "
        + ", ".join(repr(c) for c in available)
        + "."
        + did_you_mean(str(name), available),
    )


def _source(df: pd.DataFrame) -> str:
    return str(df.attrs.get("tamellm", {}).get("source", "the data"))


def _show_classes(p: ColumnProfile, df: pd.DataFrame) -> str:
    if p.multi:
        return f"{p.nunique} classes"
    counts = df[p.name].dropna().value_counts()
    shown = ", ".join(repr(x.item() if hasattr(x, "item") else x) for x in sorted(counts.index, key=str)[:5])
    more = f", ... ({p.nunique} in all)" if p.nunique > 5 else ""
    return f"{p.nunique} class{'es' if p.nunique != 1 else ''}: {shown}{more}"


def infer_columns(
    df: pd.DataFrame,
    text_column: str | None = None,
    label_column: str | None = None,
    *,
    require_label: bool = False,
) -> ColumnChoice:
    """Choose the text and label columns of ``df``; explicit names override the guess.

    The text column is a string column: one with a usual name (text, sentence,
    review, ...) if any, else the longest (by mean characters) mostly-unique one. The
    label column has few distinct values (ints, bools or strings; lists or
    ``|``/``;``-joined strings make it multi-label): one with a usual name (label,
    class, intent, ...) if any, else the one with fewest distinct values. A named
    column that does not exist raises DataError; with ``require_label`` so does
    finding no label column.
    """
    if text_column is not None:
        require_column(df, text_column, "text")
    if label_column is not None:
        require_column(df, label_column, "label")
        if label_column == text_column:
            raise DataError(
                f"column '{label_column}' cannot be both the text and the label column",
                "pass different text_column= and label_column=",
            )
    profiles = {c: profile_column(df, c) for c in df.columns}
    text, reason_text = _choose_text(df, profiles, text_column, label_column)
    label, reason_label, multi, delim = _choose_label(df, profiles, text, label_column)
    if label is None and require_label:
        raise DataError(
            f"no label column found in {_source(df)}: {reason_label}",
            "pass label_column= to name it; available columns: "
            + ", ".join(repr(str(c)) for c in df.columns),
        )
    choice = ColumnChoice(text, label, reason_text, reason_label, multi, delim)
    logger.info("%s; %s", reason_text, reason_label)
    return choice


def _choose_text(
    df: pd.DataFrame, profiles: dict[Any, ColumnProfile], given: str | None, label: str | None
) -> tuple[str, str]:
    if given is not None:
        p = profiles[given]
        if p.kind != "string":
            logger.warning("text column '%s' holds %s values, not strings", given, p.kind)
        extra = f" (mean {p.mean_len:.0f} chars)" if p.kind == "string" else f" (holds {p.kind} values)"
        return given, f"chose '{given}' as text: named by you{extra}"
    candidates = [p for c, p in profiles.items() if p.kind == "string" and c != label]
    strings = [p for p in candidates if not p.delimiter] or candidates  # joined labels are not text
    if not strings:
        kinds = ", ".join(f"'{p.name}' ({p.kind})" for p in profiles.values())
        where = df.attrs.get("tamellm", {}).get("source", "the data")
        raise DataError(
            f"no text column found in {where}: no column holds strings (columns: {kinds})",
            "pass text_column= to name the column that holds the text",
        )
    longest = max(strings, key=lambda p: p.mean_len)
    named = [p for p in strings if name_rank(p.name, TEXT_NAMES) < math.inf]
    if named:
        best = min(named, key=lambda p: (name_rank(p.name, TEXT_NAMES), -p.mean_len))
        stats = f"mean {best.mean_len:.0f} chars"
        if best is longest:
            return (
                best.name,
                f"chose '{best.name}' as text: longest string column ({stats}) with a usual text name",
            )
        return best.name, (
            f"chose '{best.name}' as text: a usual name for a text column ({stats}); "
            f"'{longest.name}' is longer (mean {longest.mean_len:.0f} chars): "
            f"pass text_column='{longest.name}' to use it"
        )
    varied = [p for p in strings if p.unique_ratio >= 0.5] or strings
    best = max(varied, key=lambda p: (p.mean_len, p.nunique))
    what = "longest string column" if best is longest else "longest mostly-unique string column"
    return best.name, f"chose '{best.name}' as text: {what} (mean {best.mean_len:.0f} chars)"


def _choose_label(
    df: pd.DataFrame, profiles: dict[Any, ColumnProfile], text: str, given: str | None
) -> tuple[str | None, str, bool, str | None]:
    if given is not None:
        p = profiles[given]
        multi = p.multi
        how = f"multi-label ({_multi_words(p)}), " if multi else ""
        return (
            given,
            f"chose '{given}' as label: named by you ({how}{_show_classes(p, df)})",
            multi,
            p.delimiter,
        )
    usable = [
        p
        for c, p in profiles.items()
        if c != text
        and p.kind in ("string", "int", "bool", "list")
        and not (p.kind == "string" and not p.delimiter and p.mean_len > 50 and p.unique_ratio > 0.5)
    ]
    usable = [p for p in usable if not looks_like_id(p.name) or name_rank(p.name, LABEL_NAMES) < math.inf]
    named = [
        p
        for p in usable
        if name_rank(p.name, LABEL_NAMES) < math.inf and (p.multi or p.unique_ratio <= 0.5 or p.n < 50)
    ]
    if named:
        best = min(named, key=lambda p: name_rank(p.name, LABEL_NAMES))
        why = "a usual name for labels"
    else:
        few = [p for p in usable if few_values(p) and p.nunique >= 2]
        if not few:
            others = [str(c) for c in df.columns if c != text]
            detail = "no other columns" if not others else "no other column has few distinct values"
            return (
                None,
                f"no label column: {detail} (columns: {', '.join(map(repr, others)) or 'none'})",
                False,
                None,
            )
        order = {c: i for i, c in enumerate(df.columns)}
        best = min(few, key=lambda p: (p.nunique, -order[p.name]))
        why = "column with the fewest distinct values"
    multi = best.multi
    how = f"multi-label ({_multi_words(best)}), " if multi else ""
    reason = f"chose '{best.name}' as label: {why} ({how}{_show_classes(best, df)} in {best.n} rows)"
    return best.name, reason, multi, best.delimiter


def _multi_words(p: ColumnProfile) -> str:
    return "lists of labels" if p.kind == "list" else f"'{p.delimiter}'-separated"
