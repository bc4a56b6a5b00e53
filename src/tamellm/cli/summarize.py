"""``tamellm summarize [TEXT] [--input FILE]``: a short summary by the chat model.

``--input`` takes a UTF-8 text file (summarized as one text), or images, PDFs and audio files
(one summary per file, of the text read from it).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tamellm.cli.common import (
    COMMANDS,
    JsonOption,
    ModelOption,
    TextsArgument,
    collect_texts,
    console,
    print_json,
)
from tamellm.cli.media_input import InputFilesOption, SpeechModelOption
from tamellm.errors import DataError, InputError


def _read_text(path: Path) -> str:
    if not path.is_file():
        raise DataError(f"Input file {path} not found", "pass an existing UTF-8 text file, image, PDF or audio file")
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(f"{path} is not UTF-8 text (byte {exc.start})", "re-save it as UTF-8") from None


def summarize_command(
    texts: TextsArgument = None,
    model: ModelOption = None,
    input_file: InputFilesOption = None,
    max_words: Annotated[int, typer.Option(help="About how many words the summary may have.")] = 40,
    speech_model: SpeechModelOption = None,
    json_output: JsonOption = False,
) -> None:
    """Summarize a text given as arguments, on stdin, in a text file, or read from images, PDFs, audio (--input)."""
    from tamellm import api
    from tamellm.media import is_media

    files = list(input_file or [])
    if files and texts:
        raise InputError("Give a text either as arguments or with --input, not both")
    media_files = [f for f in files if is_media(f)]
    if media_files:
        if len(media_files) != len(files):
            raise InputError("--input mixes text files with images, PDFs or audio",
                             "summarize text files and media files in separate calls")
        results = api.summarize_files(media_files, model=model, max_words=max_words, speech_model=speech_model)
        if json_output:
            print_json([{"summary": r.result.text, "text": r.text, "source": r.media.provenance(),
                         "new_tokens": r.result.new_tokens, "seconds": round(r.result.seconds, 3)}
                        for r in results])
            return
        for r in results:
            console.print(f"[bold]{r.media.path}[/]", highlight=False)
            console.print(r.result.text, highlight=False, markup=False)
        return
    text = "\n".join(_read_text(f) for f in files) if files else "\n".join(collect_texts(texts, None, None))
    result = api.summarize(text, model=model, max_words=max_words)
    if json_output:
        print_json({"summary": result.text, "new_tokens": result.new_tokens, "seconds": round(result.seconds, 3)})
        return
    console.print(result.text, highlight=False, markup=False)


@COMMANDS.register("summarize")
def register(app: typer.Typer) -> None:
    """Add the command to the app."""
    app.command("summarize")(summarize_command)
