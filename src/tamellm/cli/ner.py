"""``tamellm ner TEXT``: named entities."""

from __future__ import annotations

import typer
from rich.text import Text

from tamellm.cli.common import (
    COMMANDS,
    ColumnOption,
    JsonOption,
    ModelOption,
    TextsArgument,
    as_list,
    console,
    print_json,
)
from tamellm.cli.media_input import InputFilesOption, SpeechModelOption, attach, collect_inputs


def ner_command(
    texts: TextsArgument = None,
    model: ModelOption = None,
    input_file: InputFilesOption = None,
    column: ColumnOption = None,
    speech_model: SpeechModelOption = None,
    json_output: JsonOption = False,
) -> None:
    """Find people, organisations, places, dates... in texts, or in the text of images, PDFs and audio (--input)."""
    from tamellm import api

    items, media = collect_inputs(texts, input_file, column, speech_model)
    results = attach(media, as_list(api.ner(items, model=model)))
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
