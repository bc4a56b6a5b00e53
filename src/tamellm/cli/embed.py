"""``tamellm embed TEXT...``: sentence vectors."""

from __future__ import annotations

from typing import Annotated

import typer

from tamellm.cli.common import (
    COMMANDS,
    ColumnOption,
    JsonOption,
    ModelOption,
    TextsArgument,
    console,
    print_json,
)
from tamellm.cli.media_input import InputFilesOption, SpeechModelOption, attach, collect_inputs


def embed_command(
    texts: TextsArgument = None,
    model: ModelOption = None,
    input_file: InputFilesOption = None,
    column: ColumnOption = None,
    output: Annotated[str | None, typer.Option("--output", "-o", help="Write vectors to a .npy file.")] = None,
    speech_model: SpeechModelOption = None,
    json_output: JsonOption = False,
) -> None:
    """Embed texts as vectors (L2-normalised), or the text of images, PDFs and audio (--input)."""
    from tamellm import api

    items, media = collect_inputs(texts, input_file, column, speech_model)
    result = api.embed(items, model=model)
    if output:
        import numpy as np

        np.save(output, result.vectors)
    if json_output:
        rows = [{"text": t, "embedding": v.tolist()} for t, v in zip(result.texts, result.vectors, strict=True)]
        print_json([r.to_dict() if hasattr(r, "to_dict") else r for r in attach(media, rows)])
        return
    console.print(f"{len(result)} vector(s) of {result.dim} dimensions from {result.model}"
                  + (f", saved to {output}" if output else ""))
    for text, vector in zip(result.texts, result.vectors, strict=True):
        preview = ", ".join(f"{x:+.3f}" for x in vector[:4])
        console.print(f"  [{preview}, ...]  {text[:60]}", highlight=False)


@COMMANDS.register("embed")
def register(app: typer.Typer) -> None:
    """Add the command to the app."""
    app.command("embed")(embed_command)
