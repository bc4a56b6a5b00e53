"""Texts to explain from a list or a data file (csv, tsv, jsonl, parquet, txt)."""

from __future__ import annotations

import os
import random
from pathlib import Path

from tamellm.errors import DataError, InputError


def read_texts(data: str | os.PathLike | list[str], column: str | None = None, limit: int | None = None,
               seed: int = 0) -> list[str]:
    """The texts of ``data``: a list as is, or the (inferred or named) text column of a file.

    With ``limit``, a seeded random sample of that many texts (the whole set when smaller).
    """
    if isinstance(data, list | tuple):
        texts = [t for t in data if isinstance(t, str) and t.strip()]
    else:
        path = Path(data)
        if not path.is_file():
            raise DataError(f"Data file {path} not found", "pass an existing csv, tsv, jsonl, parquet or txt file")
        if path.suffix.lower() in {".txt", ""}:
            texts = [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        else:
            from tamellm.data import infer_columns, read_table

            frame = read_table(path)
            choice = infer_columns(frame, text_column=column)
            texts = [t for t in frame[choice.text].fillna("").astype(str).tolist() if t.strip()]
    if not texts:
        raise InputError("No texts to explain in the data", "pass a non-empty list or file")
    if limit is not None and len(texts) > limit:
        texts = random.Random(seed).sample(texts, limit)
    return texts
