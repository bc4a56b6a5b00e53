"""Checking a dataset before training: a report of issues, each with the rows and the fix.

Row numbers in messages are the rows a user sees in the file: for CSV/TSV the header
is row 1 (as in a spreadsheet), for JSONL they are line numbers. At most 5 are listed,
then "and N more".
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping
from typing import Any

import pandas as pd

from tamellm.data.clean import empty_text_mask, label_keys, text_keys
from tamellm.data.columns import ColumnChoice, infer_columns
from tamellm.data.labels import plain
from tamellm.data.report import ERROR, INFO, WARNING, ValidationReport, listed, plural, rows_text, verb, where
from tamellm.data.splits import Splits
from tamellm.errors import DataError

logger = logging.getLogger(__name__)

IMBALANCE_INFO = 1.5  # largest/smallest class ratio from which the report mentions imbalance
IMBALANCE_ACT = 3.0  # ratio from which it recommends class weights or oversampling


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
    Without ``columns`` they come from ``splits.columns`` or are inferred on the first part.
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
            report.add(
                ERROR,
                "missing_column",
                f"{where(name, df)} has no column '{missing[0]}'",
                f"use the same column names as in {first_name}",
                split=name,
                column=missing[0],
            )
            continue
        keys[name] = _check_texts(report, name, df, columns)
        if columns.label is not None:
            _check_labels(report, name, df, columns, keys[name])
            classes[name] = _class_counts(df, columns)
    if first_name in classes:
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


def _check_texts(report: ValidationReport, name: str, df: pd.DataFrame, columns: ColumnChoice) -> pd.Series:
    """Empty and duplicate texts in one part; returns the text keys (NaN where empty)."""
    text = columns.text
    empty = empty_text_mask(df[text])
    if empty.any():
        rows, nums = rows_text(df, df.index[empty])
        report.add(
            ERROR if empty.all() else WARNING,
            "empty_text",
            f"{plural(len(nums), 'empty or blank text')} in column '{text}' of {where(name, df)}: {rows}",
            "fill them in, or drop them with tamellm.data.drop_empty(df, columns)",
            split=name,
            column=text,
            rows=nums,
        )
    keys = text_keys(df[text]).where(~empty)
    dup = keys.duplicated(keep="first") & keys.notna()
    if dup.any():
        rows, nums = rows_text(df, df.index[dup])
        report.add(
            WARNING,
            "duplicate_text",
            f"{plural(len(nums), 'row')} of {where(name, df)} {verb(len(nums), 'repeats', 'repeat')} "
            f"a text seen earlier in column '{text}': {rows}",
            "drop the repeats with tamellm.data.dedupe(df, columns)",
            split=name,
            column=text,
            rows=nums,
        )
    return keys


def _check_labels(
    report: ValidationReport, name: str, df: pd.DataFrame, columns: ColumnChoice, keys: pd.Series
) -> None:
    """Missing labels, and texts that appear with different labels, in one part."""
    label = columns.label
    labels = label_keys(df, columns)
    lost = labels.isna()
    if lost.any():
        rows, nums = rows_text(df, df.index[lost])
        report.add(
            ERROR if lost.all() else WARNING,
            "missing_label",
            f"{plural(len(nums), 'row')} of {where(name, df)} {verb(len(nums), 'has', 'have')} "
            f"no label in column '{label}': {rows}",
            "label them, or drop them with tamellm.data.drop_empty(df, columns)",
            split=name,
            column=label,
            rows=nums,
        )
    both = pd.DataFrame({"k": keys, "l": labels}).dropna()
    n_labels = both.groupby("k")["l"].nunique()
    conflicted = n_labels[n_labels > 1].index
    if len(conflicted):
        rows, nums = rows_text(df, df.index[keys.isin(set(conflicted))])
        sample = both[both["k"] == conflicted[0]].drop_duplicates("l").head(2)
        example = " and ".join(f"{plain(v)!r} ({rows_text(df, [i])[0]})" for i, v in sample["l"].items())
        report.add(
            WARNING,
            "conflicting_labels",
            f"{plural(len(conflicted), 'text')} of {where(name, df)} "
            f"{verb(len(conflicted), 'appears', 'appear')} with different labels in column '{label}' "
            f"(e.g. {conflicted[0][:60]!r} is labelled {example}): {rows}",
            "correct the labels, or drop these texts with "
            "tamellm.data.dedupe(df, columns, drop_conflicting=True)",
            split=name,
            column=label,
            rows=nums,
            count=len(conflicted),
        )


def _class_counts(df: pd.DataFrame, columns: ColumnChoice) -> Counter[Any]:
    labels = label_keys(df, columns).dropna()
    if columns.multi_label:
        return Counter(x for v in labels for x in v)
    return Counter(plain(v) for v in labels)


def _label_rows(df: pd.DataFrame, columns: ColumnChoice, wanted: set[Any]) -> pd.Index:
    """Index labels of the rows holding any of the ``wanted`` labels."""
    if columns.multi_label:
        hit = label_keys(df, columns).map(lambda v: bool(wanted & set(v)), na_action="ignore")
    else:
        hit = label_keys(df, columns).map(lambda v: plain(v) in wanted, na_action="ignore")
    return df.index[hit.fillna(False).astype(bool)]


def _check_classes(
    report: ValidationReport, name: str, df: pd.DataFrame, counts: Counter[Any], columns: ColumnChoice
) -> None:
    """Single class, rare classes and imbalance in the reference part."""
    label, place = columns.label, where(name, df)
    report.stats["classes"] = {str(k): v for k, v in sorted(counts.items(), key=lambda kv: -kv[1])}
    if len(counts) == 1:
        report.add(
            ERROR,
            "single_class",
            f"{place} has only one class in column '{label}': {next(iter(counts))!r}",
            f"a classifier needs at least two classes: check that '{label}' is the label column "
            "(label_column=) or add examples of other classes",
            split=name,
            column=label,
            count=1,
        )
    if len(counts) < 2:
        return
    rare = sorted((k for k, v in counts.items() if v < 2), key=str)
    if rare:
        each = [f"{k!r} ({rows_text(df, _label_rows(df, columns, {k}))[0]})" for k in rare]
        report.add(
            WARNING,
            "rare_class",
            f"{plural(len(rare), 'class', 'classes')} in column '{label}' of {place} "
            f"{verb(len(rare), 'has', 'have')} fewer than 2 examples: {listed(each)}",
            "add examples, merge them into another class, or drop them: stratified splits and "
            "per-class scores need at least 2 per class",
            split=name,
            column=label,
            rows=rows_text(df, _label_rows(df, columns, set(rare)))[1],
            count=len(rare),
        )
    (big, n_big), (small, n_small) = counts.most_common()[0], counts.most_common()[-1]
    ratio = n_big / n_small
    report.stats["imbalance_ratio"] = round(ratio, 2)
    if ratio >= IMBALANCE_INFO:
        advice = (
            "train with class weights (tamellm.data.class_weights) or oversample the small classes "
            "(tamellm.data.oversample), and judge the model by macro-F1 rather than accuracy"
            if ratio >= IMBALANCE_ACT
            else "mild imbalance: report macro-F1 next to accuracy"
        )
        report.add(
            INFO,
            "imbalance",
            f"classes in column '{label}' of {place} are imbalanced: class {big!r} has "
            f"{n_big} examples, class {small!r} {n_small} (ratio {ratio:.1f}:1)",
            advice,
            split=name,
            column=label,
            count=len(counts),
        )


def _check_unseen(
    report: ValidationReport,
    name: str,
    df: pd.DataFrame,
    train_name: str,
    train: Counter[Any],
    columns: ColumnChoice,
) -> None:
    """Labels of a held-out part that the reference part lacks."""
    unseen = sorted((k for k in _class_counts(df, columns) if k not in train), key=str)
    if not unseen:
        return
    rows, nums = rows_text(df, _label_rows(df, columns, set(unseen)))
    fix = f"add examples of these classes to {train_name}, or remove these rows from {name}"
    if {str(k) for k in unseen} <= {str(k) for k in train}:
        fix = (
            f"the labels match when written as text: make '{columns.label}' the same type in every file "
            f"({type(next(iter(train))).__name__} in {train_name}, {type(unseen[0]).__name__} in {name})"
        )
    report.add(
        ERROR,
        "unseen_label",
        f"{where(name, df)} has labels that {train_name} lacks in column '{columns.label}': "
        f"{listed([repr(k) for k in unseen])} ({rows})",
        fix,
        split=name,
        column=columns.label,
        rows=nums,
        count=len(unseen),
    )


def _check_leakage(
    report: ValidationReport,
    parts: dict[str, pd.DataFrame],
    keys: dict[str, pd.Series],
    columns: ColumnChoice,
) -> None:
    """Texts of a later part (validation, test) that an earlier part already holds."""
    names = [n for n in parts if n in keys]
    for i, name in enumerate(names[1:], start=1):
        for earlier in names[:i]:
            shared = keys[name].isin(set(keys[earlier].dropna())) & keys[name].notna()
            if not shared.any():
                continue
            df = parts[name]
            rows, nums = rows_text(df, df.index[shared])
            report.stats.setdefault("leakage", {})[f"{earlier}/{name}"] = len(nums)
            report.add(
                WARNING,
                "leakage",
                f"{plural(len(nums), 'row')} of {where(name, df)} {verb(len(nums), 'has', 'have')} a text "
                f"that also appears in {earlier} (column '{columns.text}'): {rows}",
                f"remove them from {name} (tamellm.data.remove_leakage) or dedupe before splitting, "
                "so scores are not inflated",
                split=name,
                column=columns.text,
                rows=nums,
            )
