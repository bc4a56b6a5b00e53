"""``tamellm ner TEXT``: named entities."""

from __future__ import annotations

import typer
from rich.text import Text

from tamellm.cli.common import (
    COMMANDS,
    ColumnOption,
    InputOption,
    JsonOption,
    ModelOption,
    TextsArgument,
    as_list,
    collect_texts,
    console,
    print_json,
)


def ner_command(
    texts: TextsArgument = None,
    model: ModelOption = None,
    input_file: InputOption = None,
    column: ColumnOption = None,
    json_output: JsonOption = False,
) -> None:
    """Find people, organisations, places, dates... in texts."""
    from tamellm import api

    results = as_list(api.ner(collect_texts(texts, input_file, column), model=model))
    if json_output:
        print_json([r.to_dict() for r in results])
        return
    for r in results:
        line = Text(r.text)
        for e in r.entities:
            line.stylize("bold reverse", e.start, e.end)
        console.print(line)
        for e in r.entities:
            console.print(f"  [bold]{e.label}[/]: {e.text}", highlight=False)


@COMMANDS.register("ner")
def register(app: typer.Typer) -> None:
    """Add the command to the app."""
    app.command("ner")(ner_command)
