"""``tamellm eval MODEL --data FILE``: metrics of a model on labelled data."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from tamellm.cli.common import COMMANDS, JsonOption, console, print_json
from tamellm.cli.train_output import LabelColumnOption, TextColumnOption, metrics_table


def _per_class(result: dict) -> Table | None:
    rows = result.get("per_class") or result.get("per_type")
    if not rows:
        return None
    table = Table(title="per class")
    for name in ("class", "precision", "recall", "f1", "support"):
        table.add_column(name, justify="left" if name == "class" else "right")
    for label, row in rows.items():
        table.add_row(str(label), f"{row['precision']:.3f}", f"{row['recall']:.3f}", f"{row['f1']:.3f}",
                      str(row["support"]))
    return table


def _confusion(result: dict) -> Table | None:
    matrix, labels = result.get("confusion_matrix"), result.get("labels")
    if not matrix or not labels or len(labels) > 20:
        return None
    table = Table(title="confusion matrix (rows: true, columns: predicted)")
    table.add_column("")
    for label in labels:
        table.add_column(str(label), justify="right")
    for label, row in zip(labels, matrix, strict=True):
        table.add_row(str(label), *map(str, row))
    return table


def eval_command(
    model: Annotated[str, typer.Argument(help="Model folder, run folder or catalog name.")],
    data: Annotated[Path, typer.Option("--data", "-d", help="Labelled file (csv, tsv, jsonl, parquet, conll).")],
    text_column: TextColumnOption = None,
    label_column: LabelColumnOption = None,
    limit: Annotated[int | None, typer.Option("--limit", help="Evaluate the first N rows only.")] = None,
    json_output: JsonOption = False,
) -> None:
    """Evaluate a model: accuracy, macro-F1, per-class report and confusion matrix; entity F1; ROUGE-L."""
    from tamellm import api

    result = api.evaluate(model, data, text_column=text_column, label_column=label_column, limit=limit)
    if json_output:
        print_json(result)
        return
    scalars = {k: v for k, v in result.items() if isinstance(v, int | float) and not isinstance(v, bool)}
    console.print(metrics_table({str(data): scalars}, f"{result['model']} ({result['task']})"))
    for table in (_per_class(result), _confusion(result)):
        if table is not None:
            console.print(table)


@COMMANDS.register("eval")
def register(app: typer.Typer) -> None:
    """Add the command to the app."""
    app.command("eval")(eval_command)
