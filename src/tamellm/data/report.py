"""The validation report: issues with a level, the rows they concern, and the fix."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from tamellm.data.readers import row_numbers
from tamellm.errors import DataError

ERROR, WARNING, INFO = "error", "warning", "info"
_ORDER = {ERROR: 0, WARNING: 1, INFO: 2}
MAX_ROWS_SHOWN = 5


@dataclass
class Issue:
    """One finding: ``level`` is error, warning or info; ``rows`` are file row numbers (all of them)."""

    level: str
    code: str
    message: str
    fix: str
    split: str | None = None
    column: str | None = None
    rows: list[int] = field(default_factory=list)
    count: int = 0

    def __str__(self) -> str:
        return f"{self.level}: {self.message}. Fix: {self.fix}"


@dataclass
class ValidationReport:
    """The issues found by :func:`tamellm.data.validate`, and per-split statistics."""

    issues: list[Issue] = field(default_factory=list)
    stats: dict[str, Any] = field(default_factory=dict)

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.issues if i.level == ERROR]

    @property
    def warnings(self) -> list[Issue]:
        return [i for i in self.issues if i.level == WARNING]

    @property
    def infos(self) -> list[Issue]:
        return [i for i in self.issues if i.level == INFO]

    @property
    def ok(self) -> bool:
        """True when there is no error (warnings and infos allowed)."""
        return not self.errors

    def add(
        self,
        level: str,
        code: str,
        message: str,
        fix: str,
        *,
        split: str | None = None,
        column: str | None = None,
        rows: list[int] | None = None,
        count: int | None = None,
    ) -> Issue:
        """Append an issue; ``count`` defaults to the number of ``rows``."""
        rows = rows or []
        issue = Issue(level, code, message, fix, split, column, rows, len(rows) if count is None else count)
        self.issues.append(issue)
        return issue

    def by_code(self, code: str) -> list[Issue]:
        """The issues with this code (e.g. ``"leakage"``)."""
        return [i for i in self.issues if i.code == code]

    def raise_for_errors(self) -> None:
        """Raise DataError carrying every error (and its fix), if there is any."""
        errors = self.errors
        if errors:
            s = "s" if len(errors) > 1 else ""
            raise DataError(
                f"{len(errors)} error{s} in the data: " + "; ".join(e.message for e in errors),
                "; ".join(e.fix for e in errors),
            )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: ok, issues, stats."""
        return {"ok": self.ok, "issues": [asdict(i) for i in self.issues], "stats": self.stats}

    def __str__(self) -> str:
        if not self.issues:
            return "no issues found"
        return "\n".join(str(i) for i in sorted(self.issues, key=lambda i: _ORDER.get(i.level, 3)))


def plural(n: int, word: str, many: str | None = None) -> str:
    """'1 row', '3 rows' ('3 classes' with ``many``)."""
    return f"{n} {word if n == 1 else (many or word + 's')}"


def verb(n: int, one: str, many: str) -> str:
    """The verb form agreeing with ``n``."""
    return one if n == 1 else many


def where(name: str, df: pd.DataFrame) -> str:
    """'train (reviews.csv)', or just 'reviews.csv' for a lone frame named 'data'."""
    source = df.attrs.get("tamellm", {}).get("source")
    if not source:
        return name
    return Path(source).name if name == "data" else f"{name} ({Path(source).name})"


def listed(items: list[str], limit: int = MAX_ROWS_SHOWN) -> str:
    """'a, b, c, d, e and 3 more'."""
    more = f" and {len(items) - limit} more" if len(items) > limit else ""
    return ", ".join(items[:limit]) + more


def rows_text(df: pd.DataFrame, labels: Iterable[Any]) -> tuple[str, list[int]]:
    """'rows 3, 7, 9, 12, 15 and 2 more' for index labels of ``df``, and all their file row numbers."""
    unit, nums = row_numbers(df, labels)
    return f"{unit if len(nums) == 1 else unit + 's'} {listed([str(n) for n in nums])}", nums
