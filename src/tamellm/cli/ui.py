"""``tamellm ui``: serve the default models with the web page, and say where to open it."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from tamellm.cli.common import COMMANDS

# Chat, embeddings + zero-shot classification, named entities: the playground's default tasks.
DEFAULT_MODELS = ["minilm-l6", "spacy-en-sm", "smollm2-135m-instruct"]


def ui_command(
    models: Annotated[
        list[str] | None, typer.Argument(help="Catalog names or model folders (default: chat, encoder, NER).")
    ] = None,
    host: Annotated[str, typer.Option("--host", help="Address to bind (anything but loopback needs API keys).")]
    = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", "-p", help="Port to bind.")] = 8000,
    runs: Annotated[Path, typer.Option("--runs", help="Runs folder the page lists and trains into.")] = Path("runs"),
    api_key_file: Annotated[
        Path | None, typer.Option("--api-key-file", help="File with one API key per line (or TAMELLM_API_KEYS).")
    ] = None,
    max_upload_mb: Annotated[
        float, typer.Option("--max-upload-mb", min=0.001, help="Largest request body in MB, so the largest data "
                            "or audio file to upload (413 above).")
    ] = 16.0,
) -> None:
    """Open the web page: playground, training, runs and models, served at http://HOST:PORT/."""
    from tamellm.cli.common import err_console
    from tamellm.serving import serve
    from tamellm.serving.routes_ui import RUNS_ENV

    os.environ[RUNS_ENV] = str(runs.resolve())  # read by each server process when it builds the app
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    err_console.print(f"Loading {', '.join(models or DEFAULT_MODELS)}; then open [bold]http://{shown}:{port}/[/bold]")
    serve(models or DEFAULT_MODELS, host=host, port=port, api_key_file=api_key_file,
          max_body_bytes=int(max_upload_mb * 1024 * 1024))


@COMMANDS.register("ui")
def register(app: typer.Typer) -> None:
    """Add the command to the app."""
    app.command("ui")(ui_command)
