"""``tamellm advise --task classify --data FILE --max-latency 20ms``: which model, strategy and compression."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tamellm.cli.common import COMMANDS, JsonOption, console, print_json


def advise_command(
    task: Annotated[str, typer.Option("--task", help="The task (classify).")] = "classify",
    data: Annotated[Path | None, typer.Option("--data", "-d", help="Your labelled data (rows and labels).")] = None,
    rows: Annotated[int | None, typer.Option("--rows", help="Rows of data, without --data.")] = None,
    labels: Annotated[int | None, typer.Option("--labels", help="Number of labels, without --data.")] = None,
    max_latency: Annotated[str | None, typer.Option("--max-latency", help="e.g. 20ms")] = None,
    max_memory: Annotated[str | None, typer.Option("--max-memory", help="e.g. 300MB")] = None,
    min_accuracy: Annotated[float | None, typer.Option("--min-accuracy", help="e.g. 0.85")] = None,
    budget: Annotated[str | None, typer.Option("--budget", help="Training time, e.g. 10m")] = None,
    runs: Annotated[Path, typer.Option("--runs", help="Folder of your past runs and compressions.")] = Path("runs"),
    refresh: Annotated[bool, typer.Option("--refresh", help="Measure the models again.")] = False,
    models: Annotated[str | None, typer.Option("--models", help="Comma-separated candidates "
                                               "(default: every catalog encoder installed).")] = None,
    json_output: JsonOption = False,
) -> None:
    """Recommend a model, training strategy and compression for your constraints, from measured numbers."""
    from tamellm import api

    advice = api.advise(task=task, data=data, rows=rows, labels=labels, max_latency=max_latency,
                        max_memory=max_memory, min_accuracy=min_accuracy, budget=budget, runs=runs, refresh=refresh,
                        models=tuple(models.split(",")) if models else None)
    if json_output:
        print_json(advice)
        return
    from tamellm.advice import describe

    for line in describe(advice):
        console.print(line, highlight=False)


@COMMANDS.register("advise")
def register(app: typer.Typer) -> None:
    """Add the command to the app."""
    app.command("advise")(advise_command)
