"""Checking a dataset before training: a report of issues, each with the rows and the fix.

Row numbers in messages are the rows a user sees in the file: for CSV/TSV the header
is row 1 (as in a spreadsheet), for JSONL they are line numbers. At most 5 are listed,
then "and N more".
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from tamellm.data.clean import empty_text_mask, label_keys, text_keys
from tamellm.data.columns import ColumnChoice, infer_columns
from tamellm.data.readers import row_numbers
from tamellm.data.report import ERROR, INFO, MAX_ROWS_SHOWN, WARNING, Issue, ValidationReport
from tamellm.data.splits import Splits
from tamellm.errors import DataError

logger = logging.getLogger(__name__)

IMBALANCE_INFO = 1.5  # largest/smallest class ratio from which the report mentions imbalance
IMBALANCE_ACT = 3.0  # ratio from which it recommends class weights or oversampling


def _plural(n: int, word: str, plural: str | None = None) -> str:
    return f"{n} {word if n == 1 else (plural or word + 's')}"


def _verb(n: int, one: str, many: str) -> str:
    return one if n == 1 else many


def _where(name: str, df: pd.DataFrame) -> str:
    """'train (reviews.csv)', or just 'reviews.csv' for a lone frame."""
    source = df.attrs.get("tamellm", {}).get("source")
    if not source:
        return name
    return Path(source).name if name == "data" else f"{name} ({Path(source).name})"


def _rows(df: pd.DataFrame, labels: Iterable[Any]) -> tuple[str, list[int]]:
    """'rows 3, 7 and 2 more' and the full list of row numbers."""
    unit, nums = row_numbers(df, labels)
    shown = ", ".join(map(str, nums[:MAX_ROWS_SHOWN]))
    more = f" and {len(nums) - MAX_ROWS_SHOWN} more" if len(nums) > MAX_ROWS_SHOWN else ""
    return f"{unit if len(nums) == 1 else unit + 's'} {shown}{more}", nums


def _plain(v: Any) -> Any:
    return v.item() if hasattr(v, "item") else v


def _parts(data: pd.DataFrame | Splits | Mapping[str, pd.DataFrame | None]) -> dict[str, pd.DataFrame]:
    if isinstance(data, pd.DataFrame):
        return {"data": data}
    if isinstance(data, Splits):
        return dict(data.items())
    return {k: v for k, v in data.items() if v is not None}


def validate(
    df_or_splits: pd.DataFrame | Splits | Mapping[str, pd.DataFrame | None],
    columns: ColumnChoice | None = None,
) -> ValidationReport:
    """Check a dataset (one frame, :class:`Splits`, or a dict of named frames) for problems.

    The first part (train) is the reference. Errors: every text empty, every label
    missing, a single class, labels in validation/test that train lacks, a missing
    column. Warnings: empty texts, missing labels, classes with fewer than 2 examples,
    duplicate texts, duplicates with conflicting labels, texts shared between train
    and validation/test (leakage). Info: class imbalance with a recommendation.
    Without ``columns`` they are inferred on the first part.
    """
    parts = _parts(df_or_splits)
    if not parts:
        raise DataError("nothing to validate: no data given", "pass a DataFrame or Splits")
    first_name, first = next(iter(parts.items()))
    if columns is None:
        given = df_or_splits.columns if isinstance(df_or_splits, Splits) else None
        columns = given or infer_columns(first)
    report = ValidationReport(stats={"rows": {k: len(v) for k, v in parts.items()}})
    keys: dict[str, pd.Series] = {}
    classes: dict[str, Counter[Any]] = {}
    for name, df in parts.items():
        missing = [c for c in (columns.text, columns.label) if c is not None and c not in df.columns]
        if missing:
            report.issues.append(
                Issue(
                    ERROR,
                    "missing_column",
                    f"{_where(name, df)} has no column '{missing[0]}'",
                    f"use the same column names as in {first_name}",
                    name,
                    missing[0],
                )
            )
            continue
        keys[name] = _check_part(report, name, df, columns)
        if columns.label is not None:
            classes[name] = _class_counts(df, columns)
    if columns.label is not None and first_name in classes:
        _check_classes(report, first_name, first, classes[first_name], columns)
        for name, df in parts.items():
            if name != first_name and name in classes:
                _check_unseen(report, name, df, first_name, classes[first_name], columns)
    _check_leakage(report, parts, keys, columns)
    logger.info(
        "validation: %d errors, %d warnings, %d infos",
        len(report.errors),
        len(report.warnings),
        len(report.infos),
    )
    return report


def _check_part(report: ValidationReport, name: str, df: pd.DataFrame, columns: ColumnChoice) -> pd.Series:
    """Empty texts, missing labels, duplicates and conflicting duplicates in one part; returns text keys."""
    where, text = _where(name, df), columns.text
    empty = empty_text_mask(df[text])
    if empty.any():
        rows, nums = _rows(df, df.index[empty])
        level = ERROR if empty.all() else WARNING
        report.issues.append(
            Issue(
                level,
                "empty_text",
                f"{_plural(len(nums), 'empty or blank text')} in column '{text}' of {where}: {rows}",
                "fill them in, or drop them with tamellm.data.drop_empty(df, columns)",
                name,
                text,
                nums,
                len(nums),
            )
        )
    keys = text_keys(df[text]).where(~empty)
    dup = keys.duplicated(keep="first") & keys.notna()
    if dup.any():
        rows, nums = _rows(df, df.index[dup])
        report.issues.append(
            Issue(
                WARNING,
                "duplicate_text",
                f"{_plural(len(nums), 'row')} of {where} {_verb(len(nums), 'repeats', 'repeat')} "
                f"a text seen earlier in column '{text}': {rows}",
                "drop the repeats with tamellm.data.dedupe(df, columns)",
                name,
                text,
                nums,
                len(nums),
            )
        )
    if columns.label is None:
        return keys
    label = columns.label
    labels = label_keys(df, columns)
    lost = labels.isna()
    if lost.any():
        rows, nums = _rows(df, df.index[lost])
        report.issues.append(
            Issue(
                ERROR if lost.all() else WARNING,
                "missing_label",
                f"{_plural(len(nums), 'row')} of {where} {_verb(len(nums), 'has', 'have')} "
                f"no label in column '{label}': {rows}",
                "label them, or drop them with tamellm.data.drop_empty(df, columns)",
                name,
                label,
                nums,
                len(nums),
            )
        )
    both = pd.DataFrame({"k": keys, "l": labels}).dropna()
    n_labels = both.groupby("k")["l"].nunique()
    conflicted = n_labels[n_labels > 1].index
    if len(conflicted):
        mask = keys.isin(set(conflicted))
        rows, nums = _rows(df, df.index[mask])
        sample = both[both["k"] == conflicted[0]].drop_duplicates("l").head(2)
        example = " and ".join(f"{_plain(v)!r} ({_rows(df, [i])[0]})" for i, v in sample["l"].items())
        report.issues.append(
            Issue(
                WARNING,
                "conflicting_labels",
                f"{_plural(len(conflicted), 'text')} of {where} "
                f"{_verb(len(conflicted), 'appears', 'appear')} with different labels in column '{label}' "
                f"(e.g. {conflicted[0][:60]!r} is labelled {example}): {rows}",
                "correct the labels, or drop these texts with "
                "tamellm.data.dedupe(df, columns, drop_conflicting=True)",
                name,
                label,
                nums,
                len(conflicted),
            )
        )
    return keys


def _class_counts(df: pd.DataFrame, columns: ColumnChoice) -> Counter[Any]:
    labels = label_keys(df, columns).dropna()
    if columns.multi_label:
        return Counter(x for v in labels for x in v)
    return Counter(_plain(v) for v in labels)


def _label_rows(df: pd.DataFrame, columns: ColumnChoice, wanted: set[Any]) -> pd.Index:
    labels = label_keys(df, columns)
    if columns.multi_label:
        mask = labels.map(lambda v: bool(wanted & set(v)), na_action="ignore").fillna(False).astype(bool)
    else:
        mask = labels.map(lambda v: _plain(v) in wanted, na_action="ignore").fillna(False).astype(bool)
    return df.index[mask]


def _check_classes(
    report: ValidationReport, name: str, df: pd.DataFrame, counts: Counter[Any], columns: ColumnChoice
) -> None:
    where, label = _where(name, df), columns.label
    report.stats["classes"] = {str(k): v for k, v in sorted(counts.items(), key=lambda kv: -kv[1])}
    if len(counts) == 1:
        only = next(iter(counts))
        report.issues.append(
            Issue(
                ERROR,
                "single_class",
                f"{where} has only one class in column '{label}': {only!r}",
                f"a classifier needs at least two classes: check that '{label}' is the label column "
                "(label_column=) or add examples of other classes",
                name,
                label,
                count=1,
            )
        )
    rare = sorted((k for k, v in counts.items() if v < 2), key=str)
    if rare and len(counts) > 1:
        listed = ", ".join(
            f"{k!r} ({_rows(df, _label_rows(df, columns, {k}))[0]})" for k in rare[:MAX_ROWS_SHOWN]
        )
        more = f" and {len(rare) - MAX_ROWS_SHOWN} more" if len(rare) > MAX_ROWS_SHOWN else ""
        nums = _rows(df, _label_rows(df, columns, set(rare)))[1]
        report.issues.append(
            Issue(
                WARNING,
                "rare_class",
                f"{_plural(len(rare), 'class', 'classes')} in column '{label}' of {where} "
                f"{_verb(len(rare), 'has', 'have')} fewer than 2 examples: {listed}{more}",
                "add examples, merge them into another class, or drop them: stratified splits and per-class "
                "scores need at least 2 per class",
                name,
                label,
                nums,
                len(rare),
            )
        )
    if len(counts) > 1:
        (big, n_big), (small, n_small) = (
            max(counts.items(), key=lambda kv: kv[1]),
            min(counts.items(), key=lambda kv: kv[1]),
        )
        ratio = n_big / n_small
        report.stats["imbalance_ratio"] = round(ratio, 2)
        if ratio >= IMBALANCE_INFO:
            advice = (
                "train with class weights (tamellm.data.class_weights) or oversample the small classes "
                "(tamellm.data.oversample), and judge the model by macro-F1 rather than accuracy"
                if ratio >= IMBALANCE_ACT
                else "mild imbalance: report macro-F1 next to accuracy"
            )
            report.issues.append(
                Issue(
                    INFO,
                    "imbalance",
                    f"classes in column '{label}' of {where} are imbalanced: class {big!r} has "
                    f"{n_big} examples, class {small!r} {n_small} (ratio {ratio:.1f}:1)",
                    advice,
                    name,
                    label,
                    count=len(counts),
                )
            )


def _check_unseen(
    report: ValidationReport,
    name: str,
    df: pd.DataFrame,
    train_name: str,
    train: Counter[Any],
    columns: ColumnChoice,
) -> None:
    counts = _class_counts(df, columns)
    unseen = sorted((k for k in counts if k not in train), key=str)
    if not unseen:
        return
    rows, nums = _rows(df, _label_rows(df, columns, set(unseen)))
    shown = ", ".join(repr(k) for k in unseen[:MAX_ROWS_SHOWN])
    more = f" and {len(unseen) - MAX_ROWS_SHOWN} more" if len(unseen) > MAX_ROWS_SHOWN else ""
    fix = f"add examples of these classes to {train_name}, or remove these rows from {name}"
    if {str(k) for k in unseen} <= {str(k) for k in train}:
        fix = (
            f"the labels match when written as text: make '{columns.label}' the same type in every file "
            f"({type(next(iter(train))).__name__} in {train_name}, {type(unseen[0]).__name__} in {name})"
        )
    report.issues.append(
        Issue(
            ERROR,
            "unseen_label",
            f"{_where(name, df)} has labels that {train_name} lacks in column '{columns.label}': "
            f"{shown}{more} ({rows})",
            fix,
            name,
            columns.label,
            nums,
            len(unseen),
        )
    )


def _check_leakage(
    report: ValidationReport,
    parts: dict[str, pd.DataFrame],
    keys: dict[str, pd.Series],
    columns: ColumnChoice,
) -> None:
    names = [n for n in parts if n in keys]
    for i, name in enumerate(names[1:], start=1):
        for earlier in names[:i]:
            shared = keys[name].isin(set(keys[earlier].dropna())) & keys[name].notna()
            if not shared.any():
                continue
            df = parts[name]
            rows, nums = _rows(df, df.index[shared])
            report.stats.setdefault("leakage", {})[f"{earlier}/{name}"] = len(nums)
            report.issues.append(
                Issue(
                    WARNING,
                    "leakage",
                    f"{_plural(len(nums), 'row')} of {_where(name, df)} "
                    f"{_verb(len(nums), 'has', 'have')} a text that also appears in {earlier} "
                    f"(column '{columns.text}'): {rows}",
                    f"remove them from {name} (tamellm.data.remove_leakage) or dedupe before splitting, "
                    "so scores are not inflated",
                    name,
                    columns.text,
                    nums,
                    len(nums),
                )
            )
