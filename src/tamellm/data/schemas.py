"""What a task's data looks like, by name: the columns it reads and how to describe a file for it.

A ``TaskSpec`` names its schema (``data_schema``); ``tamellm.inspect_data`` and the
evaluators read files through it, so no layer switches on task names to find columns.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from tamellm.errors import DataError
from tamellm.registry import Registry

PROMPT_NAMES = ("prompt", "question", "instruction", "input", "query", "text")
RESPONSE_NAMES = ("response", "answer", "output", "completion", "target", "reply")


@dataclass(frozen=True)
class DataSchema:
    """A kind of training/evaluation file: its columns (roles) and how to describe one."""

    name: str
    roles: tuple[str, ...]
    formats: str  # what files are accepted, for messages
    describe: Callable[..., dict]  # (data, text_column, label_column) -> {text, label, reasons, notes}


DATA_SCHEMAS: Registry[DataSchema] = Registry("data_schemas", "data schema")


def _register(schema: DataSchema) -> None:
    DATA_SCHEMAS.register(schema.name, schema)


def prompt_response_columns(frame: pd.DataFrame, prompt: str | None, response: str | None,
                            source: str) -> tuple[str, str]:
    """The prompt and response columns of ``frame``: the given names, else the first known names."""
    from tamellm.data.columns import require_column

    lower = {str(c).lower(): c for c in frame.columns}

    def pick(given: str | None, names: tuple[str, ...], role: str, avoid: str | None) -> str:
        if given is not None:
            require_column(frame, given, role, source)
            return given
        for name in names:
            if name in lower and lower[name] != avoid:
                return lower[name]
        raise DataError(f"{source}: no {role} column found among {list(map(str, frame.columns))}",
                        f"name one of {', '.join(names)}, or pass --{'text' if role == 'prompt' else 'label'}-column")

    prompt_col = pick(prompt, PROMPT_NAMES, "prompt", None)
    return prompt_col, pick(response, RESPONSE_NAMES, "response", prompt_col)


def _describe_table(data: str | os.PathLike, text_column: str | None, label_column: str | None) -> dict:
    from tamellm.data.columns import infer_columns
    from tamellm.data.readers import read_table

    frame = read_table(data)
    choice = infer_columns(frame, text_column, label_column)
    return {**choice.to_dict(), "notes": [f"{data}: {len(frame)} rows"]}


def _describe_tokens(data: str | os.PathLike, text_column: str | None, label_column: str | None) -> dict:
    from tamellm.data.ner import read_ner

    sentences = read_ner(data)
    return {"notes": [f"{data}: {len(sentences)} sentences, {sum(len(s['tokens']) for s in sentences)} tokens"]}


def _describe_pairs(data: str | os.PathLike, text_column: str | None, label_column: str | None) -> dict:
    from tamellm.data.readers import read_table

    frame = read_table(data)
    prompt, response = prompt_response_columns(frame, text_column, label_column, str(data))
    return {"text": prompt, "label": response, "reason_text": "prompt column", "reason_label": "response column",
            "notes": [f"{data}: {len(frame)} rows"]}


_register(DataSchema("text-label", ("text", "label"), "csv, tsv, jsonl, parquet (a text and a label column)",
                     _describe_table))
_register(DataSchema("tokens-tags", ("tokens", "tags"), "CoNLL (token per line, IOB tags) or JSONL spans",
                     _describe_tokens))
_register(DataSchema("prompt-response", ("prompt", "response"), "csv, tsv, jsonl, parquet (prompt and response)",
                     _describe_pairs))
