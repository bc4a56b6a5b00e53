"""Train / validation / test splits: stratified, seeded, and only where a split is missing."""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from tamellm.data.columns import ColumnChoice, infer_columns, require_column, split_labels
from tamellm.data.readers import read_table
from tamellm.errors import DataError, InputError

logger = logging.getLogger(__name__)

SPLIT_NAMES: tuple[str, ...] = ("train", "validation", "test")


@dataclass
class Splits:
    """The parts of a dataset; ``validation`` / ``test`` are None when there is none.

    ``columns`` is the column choice made on train (by :func:`load_splits`), and
    ``notes`` says, in sentences, where each part came from.
    """

    train: pd.DataFrame
    validation: pd.DataFrame | None = None
    test: pd.DataFrame | None = None
    columns: ColumnChoice | None = None
    notes: list[str] = field(default_factory=list)

    def items(self) -> Iterator[tuple[str, pd.DataFrame]]:
        """(name, frame) for each part that exists, in train, validation, test order."""
        for name in SPLIT_NAMES:
            part = getattr(self, name)
            if part is not None:
                yield name, part

    def sizes(self) -> dict[str, int]:
        """Rows per existing part."""
        return {name: len(part) for name, part in self.items()}


def _check_size(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < 1:
        raise InputError(f"{name} must be a fraction in [0, 1), got {value!r}", f"e.g. {name}=0.1")
    return float(value)


def _strata(df: pd.DataFrame, label_column: str | None) -> np.ndarray | None:
    """One stratum per row (multi-label rows: their sorted label set), or None without a label column.

    Rows without a label form their own stratum; a single such row joins the largest one.
    """
    if label_column is None:
        return None
    require_column(df, label_column, "label")
    out = np.empty(len(df), dtype=object)
    missing = np.zeros(len(df), dtype=bool)
    for i, v in enumerate(df[label_column].tolist()):
        if isinstance(v, list | tuple | np.ndarray):
            out[i] = "|".join(sorted(split_labels(v, None)))
        elif v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)):
            missing[i] = True
        else:
            out[i] = str(v)
    if missing.any():
        labels, counts = np.unique(out[~missing].astype(str), return_counts=True)
        single = missing.sum() < 2 and len(labels)
        out[missing] = labels[counts.argmax()] if single else "<missing label>"
    return out


def _why_not_stratified(strata: np.ndarray, n_hold: int, n_rest: int) -> str | None:
    labels, counts = np.unique(strata, return_counts=True)
    if counts.min() < 2:
        return f"class '{labels[counts.argmin()]}' has only {counts.min()} example"
    if n_hold < len(labels):
        return f"a held-out part of {n_hold} rows cannot hold all {len(labels)} classes"
    if n_rest < len(labels):
        return f"the remaining {n_rest} rows cannot hold all {len(labels)} classes"
    return None


def _cut(
    positions: np.ndarray,
    n_hold: int,
    strata: np.ndarray | None,
    seed: int,
    label: str | None,
    why: list[str],
) -> tuple[np.ndarray, np.ndarray]:
    """Split ``positions`` into (rest, held-out of ``n_hold``), stratified when possible."""
    from sklearn.model_selection import train_test_split  # slow to import: only when splitting

    if n_hold == 0:
        return positions, positions[:0]
    if strata is not None:
        sub = strata[positions]
        reason = _why_not_stratified(sub, n_hold, len(positions) - n_hold)
        if reason is None:
            try:
                rest, hold = train_test_split(positions, test_size=n_hold, random_state=seed, stratify=sub)
                return np.sort(rest), np.sort(hold)
            except ValueError as exc:  # sklearn's own feasibility checks
                reason = str(exc)
        logger.warning("could not stratify on '%s' (%s); splitting at random instead", label, reason)
        why.append(reason)
    rest, hold = train_test_split(positions, test_size=n_hold, random_state=seed, shuffle=True)
    return np.sort(rest), np.sort(hold)


def split(
    df: pd.DataFrame,
    label_column: str | None = None,
    val_size: float = 0.1,
    test_size: float = 0.1,
    seed: int = 0,
) -> Splits:
    """Split ``df`` into train / validation / test, stratified on ``label_column``.

    Sizes are fractions of ``df`` (rounded up; 0 means no such part, which is then
    None). Stratification falls back to a random split, with the reason logged and
    kept in ``notes``, when a class is too small for it. The same ``seed`` gives the
    same split; rows keep their file order and index labels in every part.
    """
    val_size = _check_size("val_size", val_size)
    test_size = _check_size("test_size", test_size)
    if val_size + test_size >= 1:
        raise InputError(
            f"val_size + test_size must be below 1, got {val_size + test_size:g}",
            "e.g. val_size=0.1, test_size=0.1",
        )
    n = len(df)
    n_test = math.ceil(n * test_size) if test_size else 0
    n_val = math.ceil(n * val_size) if val_size else 0
    if n - n_test - n_val < 1:
        raise DataError(
            f"cannot split {n} rows into train / validation / test ({n_val} validation and "
            f"{n_test} test rows would leave no training rows)",
            "add rows, or lower val_size / test_size",
        )
    strata = _strata(df, label_column)
    why: list[str] = []
    rest, test_pos = _cut(np.arange(n), n_test, strata, seed, label_column, why)
    train_pos, val_pos = _cut(rest, n_val, strata, seed, label_column, why)
    how = f"stratified on '{label_column}'" if strata is not None and not why else "at random"
    if why:
        how += f" (could not stratify on '{label_column}': {why[0]})"
    sizes = {"train": len(train_pos), "validation": len(val_pos), "test": len(test_pos)}
    parts = " / ".join(f"{k} {v}" for k, v in sizes.items() if v)
    note = f"split {n} rows into {parts}, {how}, seed {seed}"
    logger.info(note)
    return Splits(
        train=df.iloc[train_pos],
        validation=df.iloc[val_pos] if n_val else None,
        test=df.iloc[test_pos] if n_test else None,
        notes=[note],
    )


def load_splits(
    train_path: str | os.PathLike[str],
    validation_path: str | os.PathLike[str] | None = None,
    test_path: str | os.PathLike[str] | None = None,
    *,
    text_column: str | None = None,
    label_column: str | None = None,
    val_size: float = 0.1,
    test_size: float = 0.1,
    seed: int = 0,
    encoding: str | None = None,
) -> Splits:
    """Read the given files, choose columns once on train, and split off only the missing parts.

    A missing validation (test) part is cut from train with ``val_size``
    (``test_size``) as a fraction of the train file; 0 means none. The validation and
    test files must have the columns chosen on train (DataError naming file and
    column otherwise). Each file is read once.
    """
    train = read_table(train_path, encoding=encoding)
    columns = infer_columns(train, text_column, label_column)
    notes = [f"train: {train_path} ({len(train)} rows)", columns.reason_text, columns.reason_label]
    given: dict[str, pd.DataFrame | None] = {"validation": None, "test": None}
    for name, path in (("validation", validation_path), ("test", test_path)):
        if path is None:
            continue
        part = read_table(path, encoding=encoding)
        for col, role in ((columns.text, "text"), (columns.label, "label")):
            if col is not None:
                require_column(part, col, f"{role} (chosen on train)", str(path))
        given[name] = part
        notes.append(f"{name}: {path} ({len(part)} rows)")
    want_val = val_size if given["validation"] is None else 0.0
    want_test = test_size if given["test"] is None else 0.0
    if want_val or want_test:
        cut = split(train, columns.label, val_size=want_val, test_size=want_test, seed=seed)
        train = cut.train
        notes.extend(
            f"{n}: cut from {train_path}" for n in ("validation", "test") if getattr(cut, n) is not None
        )
        notes.extend(cut.notes)
        given = {k: v if v is not None else getattr(cut, k) for k, v in given.items()}
    return Splits(train, given["validation"], given["test"], columns=columns, notes=notes)
