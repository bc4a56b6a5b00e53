"""Column statistics used to guess what a column holds (text, labels, ids)."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

DELIMITERS: tuple[str, ...] = ("|", ";")
MAX_CLASSES = 1000  # more distinct values than this is never a label column


def split_labels(value: Any, delimiter: str | None) -> list[str]:
    """The labels in one multi-label cell: a list/tuple/array, or a string split on ``delimiter``."""
    if isinstance(value, str):
        parts = value.split(delimiter) if delimiter else [value]
        return [p.strip() for p in parts if p.strip()]
    if isinstance(value, Sequence) or hasattr(value, "tolist"):
        items = value.tolist() if hasattr(value, "tolist") else list(value)
        return [str(v).strip() for v in items if v is not None and str(v).strip()]
    return [str(value)]


def name_rank(name: Any, preferred: tuple[str, ...]) -> float:
    """0.. for an exact (case-insensitive) name in ``preferred``, +100 for a word of it, inf otherwise."""
    low = str(name).strip().lower()
    if low in preferred:
        return preferred.index(low)
    ranks = [preferred.index(w) for w in name_words(name) if w in preferred and len(w) > 1]
    return 100 + min(ranks) if ranks else math.inf


def name_words(name: Any) -> list[str]:
    """'userId' / 'user_id' / 'User ID' -> ['user', 'id']."""
    return [w for w in re.split(r"[^a-z0-9]+", re.sub(r"([a-z])([A-Z])", r"\1_\2", str(name)).lower()) if w]


def looks_like_id(name: Any) -> bool:
    """True for names such as ``id``, ``userId``, ``created_at_timestamp``: not a label even if repetitive."""
    words = name_words(name)
    return bool(words) and words[-1] in ("id", "ids", "uuid", "timestamp", "time", "date", "index", "idx")


@dataclass
class ColumnProfile:
    """What a column holds: the kind of values, how many distinct, how long (strings)."""

    name: Any
    kind: str  # string | int | float | bool | list | other | empty
    n: int
    nunique: int
    mean_len: float = 0.0
    delimiter: str | None = None  # for multi-label strings

    @property
    def multi(self) -> bool:
        """Each cell holds several labels (a list, or joined by ``delimiter``)."""
        return self.kind == "list" or self.delimiter is not None

    @property
    def unique_ratio(self) -> float:
        """Distinct values per non-missing row."""
        return self.nunique / max(self.n, 1)


def value_kind(values: pd.Series) -> str:
    """The kind of non-missing values: string, int (whole floats too), float, bool, list, other, empty."""
    if values.empty:
        return "empty"
    if isinstance(values.dtype, pd.StringDtype):
        return "string"
    if pd.api.types.is_bool_dtype(values):
        return "bool"
    if pd.api.types.is_integer_dtype(values):
        return "int"
    if pd.api.types.is_float_dtype(values):
        return "int" if bool((values % 1 == 0).all()) else "float"
    types = set(values.map(type))
    if types <= {str}:
        return "string"
    if all(issubclass(t, list | tuple) or hasattr(t, "tolist") for t in types):
        return "list"
    return "other"


def profile_column(df: pd.DataFrame, name: Any) -> ColumnProfile:
    """Profile one column; multi-label columns count the distinct labels inside their cells."""
    values = df[name].dropna()
    kind = value_kind(values)
    prof = ColumnProfile(name, kind, len(values), 0)
    if kind == "list":
        prof.nunique = len({x for v in values for x in split_labels(v, None)})
    elif kind in ("string", "int", "float", "bool"):
        prof.nunique = int(values.nunique())
    if kind == "string":
        prof.mean_len = float(values.str.len().mean())
        prof.delimiter = multi_delimiter(values)
        if prof.delimiter:
            prof.nunique = len({x for v in values for x in split_labels(v, prof.delimiter)})
    return prof


def multi_delimiter(values: pd.Series) -> str | None:
    """The delimiter of a multi-label string column, or None if values are not short joined labels."""
    for d in DELIMITERS:
        has = values.str.contains(d, regex=False)
        if not has.any() or has.mean() < 0.05:
            continue
        parts = values[has].str.split(d, regex=False).explode().str.strip()
        parts = parts[parts != ""]
        if len(parts) and parts.str.len().mean() <= 30:
            return d
    return None


def few_values(p: ColumnProfile) -> bool:
    """Few distinct values: classes repeat (multi-label rows may hold more classes than rows)."""
    repeats = p.multi or p.nunique < p.n
    return 1 <= p.nunique <= MAX_CLASSES and repeats and (p.nunique <= 100 or p.unique_ratio <= 0.2)
