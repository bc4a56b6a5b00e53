"""``tamellm``: the command-line entry point.

Commands live in their own modules and register here. Errors meant for users print one
line and exit non-zero; ``--debug`` (anywhere on the line) shows the traceback.
"""

from __future__ import annotations

import importlib
import logging
import os
import pkgutil
import sys

import click
import typer

import tamellm.cli
from tamellm.cli.common import COMMANDS

# Every module in this package except the shared ones is a command that registers itself
# in COMMANDS when imported: a new command is a new file, nothing to add here.
_NOT_COMMANDS = {"common", "main", "train_output"}
for _module in pkgutil.iter_modules(tamellm.cli.__path__):
    if _module.name not in _NOT_COMMANDS:
        importlib.import_module(f"tamellm.cli.{_module.name}")

app = typer.Typer(
    name="tamellm",
    help="Language models made easy, offline first: predict, fine-tune, explain, compress, serve.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root(
    debug: bool = typer.Option(False, "--debug", help="Show full tracebacks on errors."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Log what tamellm is doing (stderr)."),
) -> None:
    """Language models made easy, offline first."""


for _register in COMMANDS.values():
    _register(app)


def run(argv: list[str] | None = None) -> None:
    """Entry point of the ``tamellm`` script."""
    from tamellm.errors import TamellmError

    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args or os.environ.get("TAMELLM_DEBUG") == "1"
    verbose = "--verbose" in args or "-v" in args
    args = [a for a in args if a not in ("--debug", "--verbose")]
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, stream=sys.stderr,
                        format="%(levelname)s %(name)s: %(message)s")
    try:
        app(args=args, prog_name="tamellm", standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except (click.exceptions.Abort, KeyboardInterrupt):
        sys.stderr.write("Interrupted.\n")
        sys.exit(130)
    except TamellmError as exc:
        if debug:
            raise
        hint = f"\n  hint: {exc.hint}" if exc.hint else ""
        sys.stderr.write(f"error: {exc.message}{hint}\n")
        sys.exit(exc.exit_code)
    except Exception as exc:  # an unexpected failure: one line unless --debug
        if debug:
            raise
        sys.stderr.write(f"error: {type(exc).__name__}: {exc} (run again with --debug for the traceback)\n")
        sys.exit(1)


if __name__ == "__main__":
    run()
