"""``--input FILE``: texts from tables and text files, or the text read from images, PDFs and audio.

Not a command: the commands that take texts (classify, ner, embed, summarize, explain) share it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from tamellm.cli.common import collect_texts, err_console, read_text_file

InputFilesOption = Annotated[
    list[Path] | None,
    typer.Option("--input", "-i", help="Read texts from a file (csv, tsv, jsonl, parquet, txt), or read the text "
                                       "of an image (png, jpg, webp: OCR), a PDF or an audio file (wav, mp3, flac, "
                                       "ogg: Whisper); repeat for several files (one result per media file)."),
]
SpeechModelOption = Annotated[str | None, typer.Option("--speech-model", help="Whisper model for audio --input "
                                                                              "(default whisper-tiny-en).")]


def collect_inputs(texts: list[str] | None, files: list[Path] | None, column: str | None,
                   speech_model: str | None = None) -> tuple[list[str], list[Any | None]]:
    """(texts, media): per text, the ``MediaText`` it was read from (None for a text from arguments or a table)."""
    from tamellm.media import is_media

    files = list(files or [])
    if not files:
        items = collect_texts(texts, None, None)
        return items, [None] * len(items)
    if texts:
        from tamellm.errors import InputError

        raise InputError("Give texts either as arguments or with --input, not both")
    out_texts: list[str] = []
    out_media: list[Any | None] = []
    for path in files:
        if is_media(path):
            from tamellm import api

            err_console.print(f"[dim]reading {path}...[/]", highlight=False)
            media = api.read_files([path], speech_model=speech_model)[0]
            out_texts.append(media.text)
            out_media.append(media)
        else:
            lines = read_text_file(path, column)
            out_texts += lines
            out_media += [None] * len(lines)
    return out_texts, out_media


def attach(media: list[Any | None], results: list[Any]) -> list[Any]:
    """Each result as it is, or a ``MediaResult`` (result + ``text`` read + ``source``) for a media input."""
    from tamellm.media import MediaResult

    return [r if m is None else MediaResult(m, r) for m, r in zip(media, results, strict=True)]


def image_model_inputs(model: str | None, files: list[Path] | None) -> list[Path] | None:
    """The image files, when every --input is an image and ``model`` is an image classifier (it reads the
    pixels, not a text); None otherwise."""
    from tamellm.media import media_kind

    if not model or not files or any(media_kind(f) != "image" for f in files):
        return None
    from tamellm import api

    return list(files) if api.load(model).task == "image-classify" else None


def image_result(result: Any) -> dict:
    """An image classifier's result as JSON: the result's fields, ``text`` empty (nothing was read), ``source``."""
    row = result.to_dict()
    return {**row, "text": "", "source": {"file": row.pop("text"), "kind": "image", "read": "pixels"}}
