"""Parsing JSON Lines and JSON-array files into records, with line numbers for errors."""

from __future__ import annotations

import json
import logging
import os
from typing import Any

from tamellm.errors import DataError

logger = logging.getLogger(__name__)

Record = tuple[int, dict[str, Any]]
"""A parsed object and the 1-based line of the file it starts on."""


def parse_jsonl(text: str, path: str | os.PathLike[str]) -> list[Record]:
    """Parse one JSON object per line; blank lines are skipped.

    A line that is not valid JSON, or not an object, raises DataError naming the file
    and the line number.
    """
    records: list[Record] = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataError(
                f"{path} line {lineno}: not valid JSON ({exc.msg} at column {exc.colno})",
                "a .jsonl file holds one complete JSON object per line, e.g. "
                '{"text": "great phone", "label": "positive"}',
            ) from exc
        if not isinstance(obj, dict):
            raise DataError(
                f"{path} line {lineno}: expected a JSON object, found {type(obj).__name__}",
                'write one object per line, e.g. {"text": "great phone", "label": "positive"}',
            )
        records.append((lineno, obj))
    if not records:
        raise DataError(f"{path} holds no JSON objects", "write one JSON object per line")
    return records


def parse_json(text: str, path: str | os.PathLike[str]) -> list[Record]:
    """Parse a ``.json`` file holding an array of objects.

    Also accepted: an object whose only list value is the array of records (e.g.
    ``{"data": [...]}``), and a file that is really JSON Lines (one object per line).
    Line numbers are those of the array items when the file has one item per line,
    otherwise 1-based item positions.
    """
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        if exc.msg == "Extra data" and text.lstrip().startswith("{"):
            logger.info("%s holds one JSON object per line: reading it as JSON Lines", path)
            return parse_jsonl(text, path)
        raise DataError(
            f"{path} line {exc.lineno}: not valid JSON ({exc.msg} at column {exc.colno})",
            "a .json file must hold an array of objects; use .jsonl for one object per line",
        ) from exc
    if isinstance(data, dict):
        lists = [k for k, v in data.items() if isinstance(v, list)]
        if len(lists) == 1:
            logger.info("%s: reading the records under the key %r", path, lists[0])
            data = data[lists[0]]
        else:
            raise DataError(
                f"{path} holds a JSON object, not an array of records",
                'write an array of objects, e.g. [{"text": "great phone", "label": "positive"}]',
            )
    if not isinstance(data, list):
        raise DataError(
            f"{path} holds a JSON {type(data).__name__}, not an array of records",
            'write an array of objects, e.g. [{"text": "great phone", "label": "positive"}]',
        )
    if not data:
        raise DataError(f"{path} holds an empty JSON array", "add at least one record")
    lines = _item_lines(text, len(data))
    records: list[Record] = []
    for i, obj in enumerate(data):
        if not isinstance(obj, dict):
            raise DataError(
                f"{path} item {i + 1}: expected a JSON object, found {type(obj).__name__}",
                'every item must be an object, e.g. {"text": "great phone", "label": "positive"}',
            )
        records.append((lines[i], obj))
    return records


def _item_lines(text: str, n: int) -> list[int]:
    """Line numbers of the items when the array has one item per line, else positions 1..n."""
    starts = [i + 1 for i, line in enumerate(text.splitlines()) if line.lstrip().startswith("{")]
    if len(starts) == n:
        return starts
    return list(range(1, n + 1))
