"""``tamellm predict MODEL --data FILE --output preds.csv``: a prediction for every row."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tamellm.cli.common import COMMANDS, JsonOption, console, print_json
from tamellm.cli.train_output import TextColumnOption


def predict_command(
    model: Annotated[str, typer.Argument(help="Model folder, run folder or catalog name.")],
    data: Annotated[Path, typer.Option("--data", "-d", help="File with texts (csv, tsv, jsonl, parquet).")],
    output: Annotated[Path, typer.Option("--output", "-o", help="CSV to write.")] = Path("preds.csv"),
    text_column: TextColumnOption = None,
    json_output: JsonOption = False,
) -> None:
    """Write text, label, score and every class score to a CSV."""
    from tamellm import api

    info = api.predict(model, data, output, text_column=text_column)
    if json_output:
        print_json(info)
        return
    console.print(f"{info['rows']} predictions (column '{info['column']}') written to [bold]{info['output']}[/]")


@COMMANDS.register("predict")
def register(app: typer.Typer) -> None:
    """Add the command to the app."""
    app.command("predict")(predict_command)
