"""``tamellm embed TEXT...``: sentence vectors."""

from __future__ import annotations

from typing import Annotated

import typer

from tamellm.cli.common import (
    COMMANDS,
    ColumnOption,
    InputOption,
    JsonOption,
    ModelOption,
    TextsArgument,
    collect_texts,
    console,
    print_json,
)


def embed_command(
    texts: TextsArgument = None,
    model: ModelOption = None,
    input_file: InputOption = None,
    column: ColumnOption = None,
    output: Annotated[str | None, typer.Option("--output", "-o", help="Write vectors to a .npy file.")] = None,
    json_output: JsonOption = False,
) -> None:
    """Embed texts as vectors (L2-normalised)."""
    from tamellm import api

    result = api.embed(collect_texts(texts, input_file, column), model=model)
    if output:
        import numpy as np

        np.save(output, result.vectors)
    if json_output:
        print_json([{"text": t, "embedding": v.tolist()} for t, v in zip(result.texts, result.vectors, strict=True)])
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
