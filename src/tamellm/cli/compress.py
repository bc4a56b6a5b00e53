"""``tamellm compress MODEL --data VALIDATION``: the fastest model inside an accuracy budget."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from tamellm.cli.common import COMMANDS, JsonOption, console, err_console, print_json


def compress_command(
    model: Annotated[str, typer.Argument(help="Fine-tuned classifier folder (or catalog name).")],
    data: Annotated[Path, typer.Option("--data", "-d", help="Labelled validation file (csv, tsv, jsonl, ...).")],
    max_drop: Annotated[float, typer.Option("--max-drop", help="Accuracy the model may lose (0.01 = 1 point).")]
    = 0.01,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Folder for the chosen model.")] = None,
    methods: Annotated[str | None, typer.Option(
        "--methods", help="Comma-separated methods; 'a+b' chains them (default: all and useful chains).")] = None,
    train_data: Annotated[Path | None, typer.Option("--train-data", help="Training file (for distillation).")]
    = None,
    budget: Annotated[float, typer.Option("--budget", help="Seconds of distillation training.")] = 300.0,
    seed: Annotated[int, typer.Option("--seed", help="Random seed.")] = 0,
    json_output: JsonOption = False,
) -> None:
    """Compress a classifier: quantize, export to ONNX, prune, factorize, distil; keep the fastest in budget."""
    from tamellm import api

    result = api.compress(model, data, max_drop=max_drop, methods=methods, output=output, train_data=train_data,
                          budget_s=budget, seed=seed)
    if json_output:
        print_json({"chosen": result.chosen, "path": str(result.path), "within_budget": result.within_budget,
                    "warning": result.warning, "candidates": result.table(), "failed": result.failed})
        return
    table = Table(title=f"candidates (max drop {max_drop})")
    for name in ("method", "size MB", "p50 ms", "p95 ms", "texts/s", "accuracy", ""):
        table.add_column(name)
    for row in result.table():
        table.add_row(row["method"], f"{row['size_bytes'] / 1e6:.1f}", f"{row['latency_p50_ms']:.1f}",
                      f"{row['latency_p95_ms']:.1f}", f"{row['throughput_per_s']:.0f}", f"{row['accuracy']:.4f}",
                      "[bold green]chosen[/]" if row["chosen"] else "")
    console.print(table)
    for failure in result.failed:
        err_console.print(f"[dim]not applicable: {failure['method']}: {failure['error']}[/]")
    if result.warning:
        err_console.print(f"[yellow]warning:[/] {result.warning}")
    console.print(f"Chosen: [bold]{result.chosen}[/] -> {result.path}")


@COMMANDS.register("compress")
def register(app: typer.Typer) -> None:
    """Add the command to the app."""
    app.command("compress")(compress_command)
