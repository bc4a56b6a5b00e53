"""``tamellm config schema|validate|show`` and ``tamellm init``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tamellm.cli.common import COMMANDS, console, print_json
from tamellm.errors import InputError

config_app = typer.Typer(help="Show the config schema, validate a config file.", no_args_is_help=True)


@config_app.command("schema")
def schema_command() -> None:
    """Print the JSON schema of the config file."""
    from tamellm.config import json_schema

    print_json(json_schema())


@config_app.command("validate")
def validate_command(path: Annotated[Path, typer.Argument(help="The YAML config file.")]) -> None:
    """Check a config file; print it with every default filled in."""
    from tamellm.config import dump_config, load_config

    config = load_config(path)
    console.print(f"[green]{path} is valid.[/] With defaults filled in:", highlight=False)
    console.print(dump_config(config), highlight=False, markup=False)


def init_command(
    output: Annotated[Path, typer.Option("--output", "-o", help="Where to write the config.")] = Path("tamellm.yaml"),
    force: Annotated[bool, typer.Option(help="Overwrite an existing file.")] = False,
) -> None:
    """Write a commented starter config."""
    from tamellm.config import starter_config

    if output.exists() and not force:
        raise InputError(f"{output} already exists", "pass --force to overwrite it or --output to pick another")
    output.write_text(starter_config(), encoding="utf-8")
    console.print(f"Wrote {output}. Edit it, then check it with: tamellm config validate {output}")


@COMMANDS.register("config")
def register(app: typer.Typer) -> None:
    """Add ``config schema|validate|show`` (a sub-app) and ``init`` to the app."""
    app.add_typer(config_app, name="config")
    app.command("init")(init_command)
