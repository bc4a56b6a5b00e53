"""Tabular readers: a registry mapping a file suffix to a reader, and :func:`read_table`.

Each file is read from disk once. Text files are decoded as UTF-8 (a BOM is accepted)
unless ``encoding=`` is given; CSV/TSV cells are kept as written, and only an empty
cell is a missing value (so a review that says "NA" stays text).

Every DataFrame returned carries ``df.attrs["tamellm"]`` with the source file and how
to turn a row's index label into the row number a user sees in the file (see
:func:`row_numbers`), so that validation messages can point at file rows.
"""

from __future__ import annotations

import csv
import io
import logging
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from tamellm.data.columns import require_column
from tamellm.data.files import check_file, read_text
from tamellm.data.jsonio import Record, parse_json, parse_jsonl
from tamellm.errors import DataError, did_you_mean
from tamellm.registry import Registry

logger = logging.getLogger(__name__)

Reader = Callable[[Path, "str | None"], pd.DataFrame]
"""A reader takes a checked path and an optional encoding and returns a DataFrame."""

TABLE_READERS: Registry[Reader] = Registry("table_readers", "table format")


def register_reader(*suffixes: str) -> Callable[[Reader], Reader]:
    """Decorator: register a reader for file suffixes (e.g. ``".csv"``); a later one replaces an earlier."""

    def add(fn: Reader) -> Reader:
        for suffix in suffixes:
            TABLE_READERS.register(suffix.lower(), fn)
        return fn

    return add


def supported_suffixes() -> list[str]:
    """The file suffixes :func:`read_table` accepts, sorted."""
    return sorted(TABLE_READERS)


def get_reader(path: str | os.PathLike[str]) -> Reader:
    """The reader registered for ``path``'s suffix, or DataError listing accepted suffixes."""
    suffix = Path(path).suffix.lower()
    if suffix in TABLE_READERS:
        return TABLE_READERS[suffix]
    accepted = ", ".join(supported_suffixes())
    what = f"suffix {suffix!r}" if suffix else "no suffix"
    raise DataError(
        f"cannot read {path}: {what} is not a known table format",
        f"accepted suffixes: {accepted}.{did_you_mean(suffix, supported_suffixes())}".rstrip("."),
    )


def read_table(
    path: str | os.PathLike[str],
    text_column: str | None = None,
    label_column: str | None = None,
    *,
    encoding: str | None = None,
) -> pd.DataFrame:
    """Read a CSV, TSV, JSONL, JSON (array of objects) or Parquet file into a DataFrame.

    ``text_column`` / ``label_column``, when given, must exist in the file (DataError
    naming the column, listing the available ones and suggesting the nearest).
    ``encoding`` overrides UTF-8 for text formats (e.g. ``"latin-1"``).
    A missing, empty or header-only file, a malformed line or an unknown suffix
    raises DataError.
    """
    reader = get_reader(path)
    p = check_file(path)
    df = reader(p, encoding)
    if len(df.columns) == 0:
        raise DataError(f"{p} has no columns", "the first line must be a header naming the columns")
    if len(df) == 0:
        raise DataError(f"{p} has a header but no rows", "add at least one row of data below the header")
    df.columns = [c.strip() if isinstance(c, str) else c for c in df.columns]
    for name, role in ((text_column, "text"), (label_column, "label")):
        if name is not None:
            require_column(df, name, role)
    df.attrs.setdefault("tamellm", {}).setdefault("source", str(p))
    logger.info("read %s: %d rows, columns %s", p, len(df), list(df.columns))
    return df


def row_numbers(df: pd.DataFrame, labels: Iterable[Any]) -> tuple[str, list[int]]:
    """Row numbers a user sees in the file for the given index labels, and their unit.

    CSV/TSV rows count the header as row 1 (as a spreadsheet does); JSONL rows are
    line numbers; other frames use 1-based record numbers.
    """
    meta = df.attrs.get("tamellm", {})
    first = int(meta.get("first_row", 1))
    unit = str(meta.get("row_unit", "row"))
    out: list[int] = []
    positions = None
    for label in labels:
        if isinstance(label, int | bool) or hasattr(label, "__index__"):
            out.append(int(label) + first)
        else:  # a non-integer index: fall back to positions in the frame
            if positions is None:
                positions = {lab: i for i, lab in enumerate(df.index)}
            out.append(positions[label] + 1)
    return unit, out


def _mark(df: pd.DataFrame, path: Path, first_row: int, unit: str) -> pd.DataFrame:
    for col in df.columns:  # whole numbers with gaps (labels 0/1 with a missing one) stay whole numbers
        s = df[col]
        if (
            pd.api.types.is_float_dtype(s)
            and s.isna().any()
            and s.notna().any()
            and bool((s.dropna() % 1 == 0).all())
        ):
            df[col] = s.astype("Int64")
    df.attrs["tamellm"] = {"source": str(path), "first_row": first_row, "row_unit": unit}
    return df


def _delimited(path: Path, encoding: str | None, sep: str, kind: str) -> pd.DataFrame:
    text = read_text(path, encoding)
    header = text.split("\n", 1)[0]
    if sep == "," and "," not in header:
        for other, name in ((";", "semicolon"), ("\t", "tab")):
            if other in header:
                logger.info(
                    "%s: the header has no comma but has %ss: reading it as %s-separated", path, name, name
                )
                sep = other
                break
    options: dict[str, Any] = {"sep": sep, "keep_default_na": False, "na_values": [""]}
    if kind == "TSV":
        options["quoting"] = csv.QUOTE_NONE  # SST-2 and friends hold bare '"' characters
    try:
        df = pd.read_csv(io.StringIO(text), **options)
    except pd.errors.EmptyDataError as exc:
        raise DataError(f"{path} has no header or rows", "the first line must name the columns") from exc
    except pd.errors.ParserError as exc:
        detail = str(exc).replace("Error tokenizing data. C error: ", "").strip()
        hint = (
            "every row must have as many tab-separated fields as the header (quotes are not special in TSV)"
            if kind == "TSV"
            else "every row must have as many fields as the header; quote fields that contain commas"
        )
        raise DataError(f"{path}: cannot parse as {kind}: {detail}", hint) from exc
    return _mark(df, path, 2, "row")


@register_reader(".csv")
def _read_csv(path: Path, encoding: str | None) -> pd.DataFrame:
    return _delimited(path, encoding, ",", "CSV")


@register_reader(".tsv", ".tab")
def _read_tsv(path: Path, encoding: str | None) -> pd.DataFrame:
    return _delimited(path, encoding, "\t", "TSV")


def records_frame(records: list[Record], path: Path) -> pd.DataFrame:
    """A DataFrame from parsed JSON records, marked with their line numbers when contiguous."""
    df = pd.DataFrame.from_records([obj for _, obj in records])
    lines = [line for line, _ in records]
    if lines == list(range(lines[0], lines[0] + len(lines))):
        return _mark(df, path, lines[0], "line")
    return _mark(df, path, 1, "record")


@register_reader(".jsonl", ".ndjson")
def _read_jsonl(path: Path, encoding: str | None) -> pd.DataFrame:
    return records_frame(parse_jsonl(read_text(path, encoding), path), path)


@register_reader(".json")
def _read_json(path: Path, encoding: str | None) -> pd.DataFrame:
    return records_frame(parse_json(read_text(path, encoding), path), path)


@register_reader(".parquet", ".pq")
def _read_parquet(path: Path, encoding: str | None) -> pd.DataFrame:
    try:
        df = pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises several unrelated types for a bad file
        raise DataError(
            f"{path} is not a readable Parquet file ({type(exc).__name__}: {exc})",
            "re-export it with pandas.DataFrame.to_parquet or pyarrow",
        ) from exc
    return _mark(df.reset_index(drop=True), path, 1, "record")
