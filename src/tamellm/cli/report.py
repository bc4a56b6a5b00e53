"""``tamellm report RUN``: write (or refresh) the HTML report of a run or tune folder."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tamellm.cli.common import COMMANDS, JsonOption, console, print_json


def report_command(
    run_dir: Annotated[Path, typer.Argument(help="Run or tune folder (it holds result.json).")],
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Page to write (default: RUN/report.html).")]
    = None,
    explain: Annotated[list[str] | None, typer.Option("--explain", help="A text to explain with the run's model "
                                                                         "(repeat for more).")] = None,
    json_output: JsonOption = False,
) -> None:
    """Metrics, learning curves, confusion matrix, search history, data summary and, when tamellm robustness
    ran on the folder, its robustness table and attack success rate: one self-contained page."""
    from tamellm import api

    path = api.report(run_dir, output, explain or None)
    if json_output:
        print_json({"report": str(path)})
        return
    console.print(f"report: {path}")


@COMMANDS.register("report")
def register(app: typer.Typer) -> None:
    """Add the command to the app."""
    app.command("report")(report_command)
