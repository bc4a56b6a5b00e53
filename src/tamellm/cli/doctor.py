"""``tamellm doctor``: versions, threads, models present, cache size."""

from __future__ import annotations

import typer
from rich.table import Table

from tamellm.cli.common import COMMANDS, JsonOption, console, print_json


def doctor_command(json_output: JsonOption = False) -> None:
    """Check this installation: versions, threads, which models are present, cache size."""
    from tamellm.api import doctor

    report = doctor()
    if json_output:
        print_json(report)
        return
    table = Table(title="tamellm doctor", show_header=False)
    table.add_row("python", report["python"])
    table.add_row("platform", report["platform"])
    for name, version in report["versions"].items():
        table.add_row(name, version or "[yellow]not installed[/]")
    table.add_row("threads", f"torch {report['threads']['torch']} of {report['threads']['cpus']} CPUs")
    for name, path in report["models"].items():
        table.add_row(f"model {name}", f"[green]{path}[/]" if path else "[red]missing[/] (see `tamellm models`)")
    table.add_row("home", f"{report['home']} ({report['cache_bytes'] / 1e6:.0f} MB cached)")
    table.add_row("network", "allowed" if report["network"] else "off (offline first)")
    console.print(table)


@COMMANDS.register("doctor")
def register(app: typer.Typer) -> None:
    """Add the command to the app."""
    app.command("doctor")(doctor_command)
