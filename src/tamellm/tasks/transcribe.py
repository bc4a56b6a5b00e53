"""Speech to text with Whisper (faster-whisper / CTranslate2); needs the 'speech' extra."""

from __future__ import annotations

from pathlib import Path

from tamellm.errors import InputError
from tamellm.results import Transcription
from tamellm.tasks.base import TaskModel
from tamellm.tasks.spec import TaskSpec, register_task


class Transcriber(TaskModel):
    """Transcribe an audio file (wav, mp3, flac, ...)."""

    def predict(self, inputs: str | Path, language: str | None = "en", beam_size: int = 1) -> Transcription:
        """Transcribe one audio file."""
        path = Path(inputs)
        if not path.is_file():
            raise InputError(f"Audio file {path} not found", "pass the path of a wav, mp3, flac or ogg file")
        segments, info = self.model.transcribe(str(path), language=language, beam_size=beam_size)
        parts = [
            {"start": round(s.start, 2), "end": round(s.end, 2), "text": s.text.strip()} for s in segments
        ]
        return Transcription(" ".join(p["text"] for p in parts).strip(), info.language, parts)


register_task(TaskSpec(
    name="transcribe", description="audio file -> text with timestamps (speech extra)",
    models={"whisper": Transcriber},
))
