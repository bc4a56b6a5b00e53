"""``tamellm generate PROMPT``: one reply from the chat model, streamed to the terminal."""

from __future__ import annotations

from typing import Annotated

import typer

from tamellm.cli.common import COMMANDS, JsonOption, ModelOption, collect_texts, console, print_json


def generate_command(
    prompt: Annotated[list[str] | None, typer.Argument(help="The prompt ('-' or none: stdin).")] = None,
    model: ModelOption = None,
    max_new_tokens: Annotated[int, typer.Option(help="Most tokens to generate.")] = 256,
    temperature: Annotated[float, typer.Option(help="0 = greedy; higher = more varied.")] = 0.0,
    seed: Annotated[int | None, typer.Option(help="Seed for sampling.")] = None,
    system: Annotated[str | None, typer.Option(help="A system message.")] = None,
    json_output: JsonOption = False,
) -> None:
    """Generate a reply to a prompt."""
    from tamellm import api

    text = " ".join(collect_texts(prompt, None, None))
    if json_output:
        result = api.generate(text, model=model, max_new_tokens=max_new_tokens, temperature=temperature,
                              seed=seed, system=system)
        print_json(result.to_dict())
        return
    messages = ([{"role": "system", "content": system}] if system else []) + [{"role": "user", "content": text}]
    for piece in api.chat(messages, model=model, stream=True, max_new_tokens=max_new_tokens,
                          temperature=temperature, seed=seed):
        console.print(piece, end="", soft_wrap=True, highlight=False, markup=False)
    console.print()


@COMMANDS.register("generate")
def register(app: typer.Typer) -> None:
    """Add the command to the app."""
    app.command("generate")(generate_command)
