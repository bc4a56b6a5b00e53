"""``tamellm chat``: an interactive, streaming chat in the terminal."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from tamellm.cli.common import COMMANDS, ModelOption, console, err_console

HELP = "Type a message and press Enter. /reset forgets the conversation, /exit (or Ctrl-D) leaves."


def chat_command(
    model: ModelOption = None,
    system: Annotated[str | None, typer.Option(help="A system message.")] = None,
    max_new_tokens: Annotated[int, typer.Option(help="Most tokens per reply.")] = 256,
    temperature: Annotated[float, typer.Option(help="0 = greedy; higher = more varied.")] = 0.0,
) -> None:
    """Chat with the model; replies stream as they are generated. Reads stdin lines when piped."""
    from tamellm import api

    interactive = sys.stdin.isatty()
    start = [{"role": "system", "content": system}] if system else []
    history = list(start)
    if interactive:
        err_console.print(f"[dim]{HELP}[/]")
    while True:
        try:
            line = console.input("[bold cyan]you> [/]") if interactive else sys.stdin.readline()
        except EOFError:
            break
        if not interactive and not line:
            break
        line = line.strip()
        if not line:
            continue
        if line in ("/exit", "/quit"):
            break
        if line == "/reset":
            history = list(start)
            err_console.print("[dim]conversation reset[/]")
            continue
        history.append({"role": "user", "content": line})
        if interactive:
            console.print("[bold green]bot> [/]", end="")
        reply = []
        for piece in api.chat(history, model=model, stream=True, max_new_tokens=max_new_tokens,
                              temperature=temperature):
            reply.append(piece)
            console.print(piece, end="", soft_wrap=True, highlight=False, markup=False)
        console.print()
        history.append({"role": "assistant", "content": "".join(reply).strip()})


@COMMANDS.register("chat")
def register(app: typer.Typer) -> None:
    """Add the command to the app."""
    app.command("chat")(chat_command)
