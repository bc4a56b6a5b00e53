"""``tamellm runs [DIR]``: the training and tuning runs with their key metrics."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from tamellm.cli.common import COMMANDS, JsonOption, console, print_json


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.4f}"
    return "" if value is None else str(value)


def runs_command(
    folder: Annotated[Path, typer.Argument(help="Folder holding runs (the --output of tamellm train).")]
    = Path("runs"),
    include_trials: Annotated[bool, typer.Option("--all", help="Also list the trials of each tune.")] = False,
    json_output: JsonOption = False,
) -> None:
    """List runs, newest first: task, strategy, validation and test metric, time, model folder."""
    from tamellm import api

    rows = api.runs(folder, include_trials=include_trials)
    if json_output:
        print_json(rows)
        return
    if not rows:
        console.print(f"No runs under {folder}. Start one with: tamellm train --data FILE --output {folder}")
        return
    table = Table(title=f"runs in {folder}")
    for name in ("run", "kind", "task", "strategy", "metric", "validation", "test", "seconds", "finished", "model"):
        table.add_column(name)
    for row in rows:
        table.add_row(row["name"], row["kind"], _fmt(row["task"]), _fmt(row["strategy"]), _fmt(row["primary_metric"]),
                      _fmt(row["validation"]), _fmt(row["test"]),
                      f"{row['seconds']:.0f}" if isinstance(row["seconds"], int | float) else "",
                      _fmt(row["finished"]), _fmt(row["model"]))
    console.print(table)


@COMMANDS.register("runs")
def register(app: typer.Typer) -> None:
    """Add the command to the app."""
    app.command("runs")(runs_command)
