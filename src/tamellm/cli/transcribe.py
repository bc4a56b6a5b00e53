"""``tamellm transcribe AUDIO``: speech to text (needs the 'speech' extra)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tamellm.cli.common import COMMANDS, JsonOption, ModelOption, console, print_json


def transcribe_command(
    audio: Annotated[Path, typer.Argument(help="An audio file (wav, mp3, flac, ogg).")],
    model: ModelOption = None,
    language: Annotated[str, typer.Option(help="Spoken language.")] = "en",
    json_output: JsonOption = False,
) -> None:
    """Transcribe an audio file with Whisper tiny.en."""
    from tamellm import api

    result = api.transcribe(audio, model=model, language=language)
    if json_output:
        print_json(result.to_dict())
        return
    console.print(result.text, highlight=False, markup=False)


@COMMANDS.register("transcribe")
def register(app: typer.Typer) -> None:
    """Add the command to the app."""
    app.command("transcribe")(transcribe_command)
