"""Cleaning helpers that the validation report points to: dedupe, drop empty rows, remove leakage."""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from tamellm.data.columns import ColumnChoice, require_column
from tamellm.data.splits import Splits
from tamellm.errors import InputError

logger = logging.getLogger(__name__)


def text_keys(texts: pd.Series) -> pd.Series:
    """The comparison key of each text: the text with outer white space removed (NaN stays NaN).

    The keys have object dtype, so that ``isin`` and ``duplicated`` use a hash table.
    """
    keys = texts.astype(str).str.strip().astype(object)
    keys[texts.isna().to_numpy()] = np.nan
    return keys


def empty_text_mask(texts: pd.Series) -> pd.Series:
    """True where a text is missing or only white space."""
    keys = text_keys(texts)
    return keys.isna() | (keys == "")


def label_keys(df: pd.DataFrame, columns: ColumnChoice) -> pd.Series:
    """A hashable key per row's label (a sorted tuple when multi-label); missing labels are NaN."""
    values = columns.label_values(df)
    if columns.multi_label:
        return values.map(lambda v: tuple(sorted(v)) if v else float("nan"), na_action="ignore")

    def key(v: Any) -> Any:
        return float("nan") if isinstance(v, str) and not v.strip() else v

    return values.map(key, na_action="ignore")


def dedupe(df: pd.DataFrame, columns: ColumnChoice, *, drop_conflicting: bool = False) -> pd.DataFrame:
    """Drop rows whose text (outer white space ignored) repeats an earlier row's.

    With ``drop_conflicting`` every row of a text that appears with different labels
    is dropped, since which label is right is unknown. Kept rows keep their index
    labels (and so their file row numbers).
    """
    require_column(df, columns.text, "text")
    keys = text_keys(df[columns.text])
    keep = ~keys.duplicated(keep="first") | keys.isna()
    if drop_conflicting and columns.label is not None:
        labels = label_keys(df, columns)
        seen = pd.DataFrame({"k": keys, "l": labels}).dropna()
        n_labels = seen.groupby("k")["l"].nunique()
        conflicted = set(n_labels[n_labels > 1].index)
        keep &= ~keys.isin(conflicted)
        logger.info("dropping %d texts that appear with different labels", len(conflicted))
    out = df[keep]
    logger.info("dedupe: kept %d of %d rows", len(out), len(df))
    return out


def drop_empty(df: pd.DataFrame, columns: ColumnChoice) -> pd.DataFrame:
    """Drop rows whose text is missing or blank, or (when there is a label column) whose label is missing."""
    require_column(df, columns.text, "text")
    bad = empty_text_mask(df[columns.text])
    if columns.label is not None:
        bad |= label_keys(df, columns).isna()
    logger.info("drop_empty: dropped %d of %d rows", int(bad.sum()), len(df))
    return df[~bad]


def remove_leakage(splits: Splits, columns: ColumnChoice | None = None) -> Splits:
    """Drop from validation the texts that train holds, and from test those train or validation hold."""
    columns = columns or splits.columns
    if columns is None:
        raise InputError(
            "remove_leakage needs the column choice", "pass columns=, or use splits from load_splits"
        )
    seen = set(text_keys(splits.train[columns.text]).dropna())
    parts: dict[str, pd.DataFrame | None] = {}
    for name in ("validation", "test"):
        part = getattr(splits, name)
        if part is None:
            parts[name] = None
            continue
        keys = text_keys(part[columns.text])
        leaked = keys.isin(seen)
        logger.info("remove_leakage: dropped %d of %d %s rows", int(leaked.sum()), len(part), name)
        parts[name] = part[~leaked]
        seen |= set(keys.dropna())
    return replace(splits, **parts)
