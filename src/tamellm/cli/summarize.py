"""``tamellm summarize [TEXT] [--input FILE]``: a short summary by the chat model."""

from __future__ import annotations

from typing import Annotated

import typer

from tamellm.cli.common import (
    COMMANDS,
    InputOption,
    JsonOption,
    ModelOption,
    TextsArgument,
    collect_texts,
    console,
    print_json,
)
from tamellm.errors import DataError


def summarize_command(
    texts: TextsArgument = None,
    model: ModelOption = None,
    input_file: InputOption = None,
    max_words: Annotated[int, typer.Option(help="About how many words the summary may have.")] = 40,
    json_output: JsonOption = False,
) -> None:
    """Summarize a text given as arguments, on stdin, or in a text file (--input)."""
    from tamellm import api

    if input_file is not None:
        if not input_file.is_file():
            raise DataError(f"Input file {input_file} not found", "pass an existing UTF-8 text file")
        try:
            text = input_file.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError as exc:
            raise DataError(f"{input_file} is not UTF-8 text (byte {exc.start})", "re-save it as UTF-8") from None
    else:
        text = "\n".join(collect_texts(texts, None, None))
    result = api.summarize(text, model=model, max_words=max_words)
    if json_output:
        print_json({"summary": result.text, "new_tokens": result.new_tokens, "seconds": round(result.seconds, 3)})
        return
    console.print(result.text, highlight=False, markup=False)


@COMMANDS.register("summarize")
def register(app: typer.Typer) -> None:
    """Add the command to the app."""
    app.command("summarize")(summarize_command)
