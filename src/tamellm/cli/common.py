"""What every command shares: reading texts, printing results, the shared options."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from tamellm.errors import DataError, InputError
from tamellm.registry import Registry

# Each command module's ``register(app)`` adds its command(s); a separate package adds its own
# through the ``tamellm_commands`` entry points.
COMMANDS: Registry[Callable[[typer.Typer], None]] = Registry("commands", "command")

console = Console()  # human output
err_console = Console(stderr=True)

ModelOption = Annotated[str | None, typer.Option("--model", "-m", help="Catalog name or model folder.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON on stdout.")]
InputOption = Annotated[
    Path | None, typer.Option("--input", "-i", help="Read texts from a file (csv, tsv, jsonl, parquet, txt).")
]
ColumnOption = Annotated[str | None, typer.Option("--column", "-c", help="Text column of --input (inferred).")]
TextsArgument = Annotated[list[str] | None, typer.Argument(help="Texts; '-' or none to read stdin lines.")]


def read_text_file(path: Path, column: str | None) -> list[str]:
    """Texts from a file: one per line for .txt, else the (inferred or named) text column."""
    if not path.is_file():
        raise DataError(f"Input file {path} not found", "pass an existing csv, tsv, jsonl, parquet or txt file")
    if path.suffix.lower() in {".txt", ".text", ""}:
        try:
            lines = path.read_text(encoding="utf-8-sig").splitlines()
        except UnicodeDecodeError as exc:
            raise DataError(f"{path} is not UTF-8 text (byte {exc.start})", "re-save the file as UTF-8") from None
        return [line for line in lines if line.strip()]
    from tamellm.data import infer_columns, read_table

    frame = read_table(path)
    choice = infer_columns(frame, text_column=column)
    texts = frame[choice.text].fillna("").astype(str).tolist()
    empty = [i + 2 for i, t in enumerate(texts) if not t.strip()]  # +2: header line, 1-based rows
    if empty:
        raise DataError(f"{path}: column '{choice.text}' is empty on row(s) {empty[:5]}",
                        "fill or drop those rows")
    return texts


def collect_texts(texts: Iterable[str] | None, input_file: Path | None, column: str | None) -> list[str]:
    """Texts from arguments, from --input, or from stdin (one per line)."""
    items = list(texts or [])
    if input_file is not None:
        if items:
            raise InputError("Give texts either as arguments or with --input, not both")
        return read_text_file(input_file, column)
    if items and items != ["-"]:
        return items
    if items == ["-"] or not sys.stdin.isatty():
        lines = [line.rstrip("\n") for line in sys.stdin if line.strip()]
        if lines:
            return lines
    raise InputError("No text given", "pass TEXT arguments, --input FILE, or pipe lines on stdin")


def print_json(data: Any) -> None:
    """Write JSON to stdout (and nothing else), for scripts."""
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")
    sys.stdout.flush()


def as_list(result: Any) -> list:
    """A list of results from one result or a list."""
    return result if isinstance(result, list) else [result]
