"""Class imbalance: balanced class weights and random oversampling."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from tamellm.data.columns import require_column
from tamellm.data.labels import label_sort_key, plain
from tamellm.errors import DataError

logger = logging.getLogger(__name__)


def _flat_labels(labels: Iterable[Any]) -> list[Any]:
    """Labels as plain Python values; lists (multi-label rows) are flattened; missing ones dropped."""
    out: list[Any] = []
    missing = 0
    for v in labels:
        if isinstance(v, list | tuple | np.ndarray):
            out.extend(plain(x) for x in v)
        elif v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)):
            missing += 1
        else:
            out.append(plain(v))
    if missing:
        logger.warning("ignoring %d missing labels", missing)
    return out


def class_weights(labels: Iterable[Any]) -> dict[Any, float]:
    """Balanced class weights, ``n_samples / (n_classes * count)`` (scikit-learn's ``"balanced"``).

    Keys are the labels as plain Python values, in sorted order. Multi-label rows
    (lists) count once per label they hold; missing labels are ignored.
    """
    from sklearn.utils.class_weight import compute_class_weight  # slow to import: only when needed

    flat = _flat_labels(labels)
    if not flat:
        raise DataError("cannot compute class weights: there are no labels", "pass the training labels")
    classes = sorted(set(flat), key=label_sort_key)
    index = {c: i for i, c in enumerate(classes)}
    codes = np.fromiter((index[v] for v in flat), dtype=np.int64, count=len(flat))
    weights = compute_class_weight("balanced", classes=np.arange(len(classes)), y=codes)
    return {c: float(w) for c, w in zip(classes, weights, strict=True)}


def oversample(df: pd.DataFrame, label_column: str, seed: int = 0) -> pd.DataFrame:
    """Repeat rows of the smaller classes (drawn at random, seeded) until each matches the largest.

    Returns the original rows followed by the drawn copies; copies keep the index
    label of the row they repeat (so validation messages still point at file rows).
    Rows with a missing label are kept once and never drawn. Single-label only.
    """
    require_column(df, label_column, "label")
    labels = df[label_column]
    if any(isinstance(v, list | tuple | np.ndarray) for v in labels.head(100)):
        raise DataError(
            f"oversample needs one label per row; column '{label_column}' holds lists",
            "use class_weights for multi-label data",
        )
    counts = labels.value_counts(dropna=True)
    if counts.empty:
        raise DataError(f"cannot oversample: column '{label_column}' has no labels", "label the rows first")
    target = int(counts.max())
    rng = np.random.default_rng(seed)
    positions = np.arange(len(df))
    extra: list[np.ndarray] = []
    for cls in sorted(counts.index, key=str):
        members = positions[(labels == cls).to_numpy(dtype=bool, na_value=False)]
        need = target - len(members)
        if need > 0:
            extra.append(rng.choice(members, size=need, replace=True))
    added = np.concatenate(extra) if extra else positions[:0]
    logger.info(
        "oversample: added %d rows so that every class of '%s' has %d", len(added), label_column, target
    )
    return df.iloc[np.concatenate([positions, added])]
