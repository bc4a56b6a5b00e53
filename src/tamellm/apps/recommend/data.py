"""Reading interactions and item texts: separators, encodings and columns inferred, problems reported.

Interactions: one row per (user, item) event, with an optional rating and timestamp
(implicit feedback when there is no rating). Items: an item id plus any text columns
(title, categories, tags, description, ...) joined into one text per item; several item
files (a catalogue and a tag file) add up. Tab-, comma-, pipe- and semicolon-separated
files are read (the separator is taken from the header line), as UTF-8 with or without a
BOM unless ``encoding`` names another codec (``latin-1``, ``cp1252``); JSONL and Parquet
go through tamellm's table readers.
"""

from __future__ import annotations

import io
import logging
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from tamellm.data.files import read_text
from tamellm.data.readers import read_table
from tamellm.errors import DataError, did_you_mean

logger = logging.getLogger(__name__)

USER_NAMES = ("user", "userid", "uid", "customer", "customerid", "visitor", "visitorid", "reviewer", "reviewerid",
              "member", "memberid", "account", "accountid")
ITEM_NAMES = ("item", "itemid", "iid", "movie", "movieid", "product", "productid", "asin", "sku", "book", "bookid",
              "isbn", "track", "trackid", "article", "articleid", "song", "songid", "id")
RATING_NAMES = ("rating", "ratings", "score", "stars", "star", "value", "weight", "preference")
TIME_NAMES = ("timestamp", "time", "ts", "date", "datetime", "createdat", "eventtime", "unixtime")
TITLE_NAMES = ("title", "name", "itemname", "productname", "movietitle")
SEPARATORS = (("\t", "tab"), ("|", "pipe"), (";", "semicolon"), (",", "comma"))
DELIMITED = {".csv", ".tsv", ".tab", ".txt", ".dat", ".psv", ""}


def _key(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", str(name).lower())


def read_frame(path: str | os.PathLike, encoding: str | None = None) -> pd.DataFrame:
    """A table from ``path``: delimited text with the separator found in its header, else tamellm's readers."""
    p = Path(path)
    if p.suffix.lower() not in DELIMITED:
        return read_table(p, encoding=encoding)
    text = read_text(p, encoding)
    header = text.split("\n", 1)[0]
    counts = {sep: header.count(sep) for sep, _ in SEPARATORS}
    sep = max(counts, key=lambda s: counts[s])
    if counts[sep] == 0:
        raise DataError(f"{p}: the header line has no tab, pipe, semicolon or comma",
                        "the first line must name the columns, e.g. user,item,rating,timestamp")
    try:
        frame = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False, na_values=[""],
                            engine="python" if sep == "|" else "c")
    except pd.errors.ParserError as exc:
        raise DataError(f"{p}: cannot parse as a {dict(SEPARATORS)[sep]}-separated file: {exc}",
                        "every row needs as many fields as the header; quote fields that hold the separator") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    if frame.empty:
        raise DataError(f"{p} has a header but no rows", "add at least one row below the header")
    return frame


def find_column(frame: pd.DataFrame, names: tuple[str, ...], given: str | None, role: str, path: Path,
                required: bool = True, exclude: tuple[str, ...] = ()) -> str | None:
    """The column playing ``role``: ``given`` when named, else the first whose name matches ``names``."""
    columns = [c for c in frame.columns if c not in exclude]
    if given is not None:
        if given not in frame.columns:
            raise DataError(f"{path} has no {role} column '{given}'{did_you_mean(given, list(frame.columns))}",
                            "columns: " + ", ".join(map(str, frame.columns)))
        return given
    keyed = {_key(c): c for c in columns}
    for name in names:
        if name in keyed:
            return keyed[name]
    for name in names:  # 'user_name', 'movie_code': a column that starts with a known name
        for key, column in keyed.items():
            if key.startswith(name) and len(name) > 2:
                return column
    if required:
        raise DataError(f"{path}: no {role} column found among {', '.join(map(str, frame.columns))}",
                        f"name it '{names[0]}' (also accepted: {', '.join(names[1:6])}) or pass the column name")
    return None


def _timestamps(values: pd.Series, path: Path, column: str) -> np.ndarray:
    numeric = pd.to_numeric(values, errors="coerce")
    if numeric.notna().all():
        return numeric.to_numpy(dtype=np.float64)
    parsed = pd.to_datetime(values, errors="coerce", utc=True, format="mixed")
    bad = parsed.isna()
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0]) + 2
        raise DataError(f"{path}: timestamp column '{column}' has a value that is neither a number nor a date "
                        f"on row {row}: {values.iloc[row - 2]!r}", "use Unix seconds or ISO dates (2024-05-01 12:00)")
    return parsed.astype("int64").to_numpy(dtype=np.float64) / 1e9


@dataclass
class Interactions:
    """Events as parallel arrays of string ids, sorted by user then time."""

    users: np.ndarray  # str ids
    items: np.ndarray  # str ids
    ratings: np.ndarray | None  # float, None for implicit feedback
    times: np.ndarray  # float seconds, or the row order when the file has no timestamp
    report: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.users)


def read_interactions(path: str | os.PathLike, user_column: str | None = None, item_column: str | None = None,
                      rating_column: str | None = None, time_column: str | None = None,
                      encoding: str | None = None) -> Interactions:
    """Read an interactions file; duplicates of a (user, item) pair keep the latest row (counted in the report)."""
    p = Path(path)
    frame = read_frame(p, encoding)
    user = find_column(frame, USER_NAMES, user_column, "user", p)
    item = find_column(frame, ITEM_NAMES, item_column, "item", p, exclude=(user,))
    rating = find_column(frame, RATING_NAMES, rating_column, "rating", p, required=False, exclude=(user, item))
    when = find_column(frame, TIME_NAMES, time_column, "timestamp", p, required=False, exclude=(user, item))
    missing = frame[user].isna() | frame[item].isna()
    report: dict = {"file": str(p), "rows": int(len(frame)),
                    "columns": {"user": user, "item": item, "rating": rating, "timestamp": when},
                    "rows_without_user_or_item": int(missing.sum())}
    frame = frame[~missing]
    ratings = None
    if rating is not None:
        values = pd.to_numeric(frame[rating], errors="coerce")
        if values.isna().any():
            row = int(np.flatnonzero(values.isna().to_numpy())[0])
            raise DataError(f"{p}: rating column '{rating}' holds a non-number: {frame[rating].iloc[row]!r}",
                            "ratings must be numbers (stars, counts, weights); leave the column out for clicks")
        ratings = values.to_numpy(dtype=np.float32)
    times = _timestamps(frame[when], p, when) if when else np.arange(len(frame), dtype=np.float64)
    users = frame[user].astype(str).str.strip().to_numpy()
    items = frame[item].astype(str).str.strip().to_numpy()
    order = np.lexsort((np.arange(len(users)), times, users))  # by user, then time, then file order
    users, items, times = users[order], items[order], times[order]
    ratings = ratings[order] if ratings is not None else None
    pairs = pd.DataFrame({"u": users, "i": items})
    last = ~pairs.duplicated(keep="last").to_numpy()
    report["duplicates_dropped"] = int((~last).sum())
    users, items, times = users[last], items[last], times[last]
    ratings = ratings[last] if ratings is not None else None
    if not len(users):
        raise DataError(f"{p} has no usable interactions", "each row needs a user and an item")
    report.update(interactions=int(len(users)), users=int(len(set(users))), items=int(len(set(items))),
                  feedback="explicit" if ratings is not None else "implicit")
    return Interactions(users, items, ratings, times, report)


@dataclass
class ItemTexts:
    """One text (and a short title) per item id, in first-seen order."""

    ids: list[str]
    titles: list[str]
    texts: list[str]
    report: dict = field(default_factory=dict)


def _clean(value: object) -> str:
    text = str(value).strip()
    return text.replace("|", ", ") if "|" in text and " " not in text.replace("|", "") else text


def read_items(paths: str | os.PathLike | list, item_column: str | None = None,
               encoding: str | None = None) -> ItemTexts:
    """Item texts from one or more files: every text column joined; repeated ids (tag rows) are merged."""
    files = [paths] if isinstance(paths, str | os.PathLike) else list(paths)
    titles: dict[str, str] = {}
    parts: dict[str, dict[str, list[str]]] = {}
    reports = []
    for path in files:
        p = Path(path)
        frame = read_frame(p, encoding)
        item = find_column(frame, ITEM_NAMES, item_column, "item", p)
        skip = {item}
        for names in (USER_NAMES, TIME_NAMES, RATING_NAMES):
            found = find_column(frame, names, None, "", p, required=False, exclude=tuple(skip))
            if found:
                skip.add(found)
        text_columns = [c for c in frame.columns if c not in skip
                        and pd.to_numeric(frame[c], errors="coerce").notna().mean() < 0.9]
        if not text_columns:
            raise DataError(f"{p}: no text column besides the item id '{item}'",
                            "add columns such as title, genres, tags or description")
        title = find_column(frame, TITLE_NAMES, None, "title", p, required=False, exclude=(item,))
        title = title if title in text_columns else text_columns[0]
        frame = frame[frame[item].notna()]
        for row in frame[[item, *text_columns]].itertuples(index=False):
            key = str(row[0]).strip()
            slot = parts.setdefault(key, {})
            for column, value in zip(text_columns, row[1:], strict=True):
                if isinstance(value, str) and value.strip() and value.strip() != "(no genres listed)":
                    values = slot.setdefault(column, [])
                    cleaned = _clean(value)
                    if cleaned not in values:
                        values.append(cleaned)
            if key not in titles and isinstance(row[1 + text_columns.index(title)], str):
                titles[key] = str(row[1 + text_columns.index(title)]).strip()
        reports.append({"file": str(p), "rows": int(len(frame)), "item": item, "text_columns": text_columns})
    ids = list(parts)
    texts = []
    for key in ids:
        slot = parts[key]
        pieces = []
        for column, values in slot.items():
            joined = ", ".join(values[:30])  # tags: the first 30 distinct ones are plenty for an encoder
            pieces.append(joined if column == next(iter(slot)) else f"{column}: {joined}")
        texts.append(". ".join(pieces))
    empty = sum(1 for t in texts if not t)
    return ItemTexts(ids, [titles.get(k, k) for k in ids], texts,
                     {"files": reports, "items": len(ids), "items_without_text": empty})
