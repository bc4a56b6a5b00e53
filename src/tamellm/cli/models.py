"""``tamellm models``: the catalog and what is installed."""

from __future__ import annotations

import typer
from rich.table import Table

from tamellm.cli.common import COMMANDS, JsonOption, console, print_json


def models_command(json_output: JsonOption = False) -> None:
    """List the named models, their role, size, licence and whether they are installed."""
    from tamellm.models.catalog import CATALOG

    rows = [spec.to_dict() for spec in CATALOG.values()]
    if json_output:
        print_json(rows)
        return
    table = Table(title="tamellm models")
    for column in ("name", "task", "params", "license", "installed", "role"):
        table.add_column(column)
    for row in rows:
        installed = "[green]yes[/]" if row["installed"] else f"[red]no[/] ({row['install']})"
        table.add_row(row["name"], row["task"], row["params"], row["license"], installed, row["role"])
    console.print(table)


@COMMANDS.register("models")
def register(app: typer.Typer) -> None:
    """Add the command to the app."""
    app.command("models")(models_command)
