"""``tamellm classify TEXT... --labels a,b,c``: zero-shot or with a fine-tuned model; ``--input`` reads files."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

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
from tamellm.cli.media_input import (
    InputFilesOption,
    SpeechModelOption,
    attach,
    collect_inputs,
    image_model_inputs,
    image_result,
)


def classify_command(
    texts: TextsArgument = None,
    labels: Annotated[str | None, typer.Option("--labels", "-l", help="Comma-separated candidate labels.")] = None,
    model: ModelOption = None,
    input_file: InputFilesOption = None,
    column: ColumnOption = None,
    multi_label: Annotated[bool, typer.Option(help="Allow several labels per text.")] = False,
    speech_model: SpeechModelOption = None,
    json_output: JsonOption = False,
) -> None:
    """Classify texts, or the text read from images, PDFs and audio (--input).

    Without --model: zero-shot over --labels. With a fine-tuned folder: its labels.
    """
    from tamellm import api

    images = image_model_inputs(model, input_file)
    if images is not None:  # an image classifier reads the pixels themselves
        classified = as_list(api.classify_images([str(p) for p in images], model=model))
        if json_output:
            print_json([image_result(r) for r in classified])
            return
        for path, r in zip(images, classified, strict=True):
            console.print(f"{path}: [bold]{r.label}[/] {r.score:.2f}", highlight=False)
        return
    items, media = collect_inputs(texts, input_file, column, speech_model)
    results = attach(media, as_list(api.classify(items, labels=labels, model=model, multi_label=multi_label)))
    if json_output:
        print_json([r.to_dict() for r in results])
        return
    table = Table()
    for name in ("text", "label", "score", "other scores"):
        table.add_column(name)
    for r in results:
        others = ", ".join(f"{k} {v:.2f}" for k, v in list(r.scores.items())[1:4])
        label = ", ".join(r.labels) if multi_label else r.label
        table.add_row(r.text[:80], f"[bold]{label}[/]", f"{r.score:.2f}", others)
    console.print(table)


@COMMANDS.register("classify")
def register(app: typer.Typer) -> None:
    """Add the command to the app."""
    app.command("classify")(classify_command)
