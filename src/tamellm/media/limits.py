"""Limits on what a media reader accepts, so one file cannot exhaust memory or time."""

from __future__ import annotations

import os
from dataclasses import dataclass


def _env_float(name: str, default: float) -> float:
    value = os.environ.get(name)
    try:
        return float(value) if value else default
    except ValueError:
        return default


@dataclass(frozen=True)
class MediaLimits:
    """Largest inputs read. Environment variables raise them for a whole process.

    ``max_pixels``: an image (or a picture in a PDF) is refused above this many pixels
    before it is decoded: a small PNG can claim 20,000 x 20,000 pixels (a decompression
    bomb, 1.2 GB once decoded). ``max_audio_seconds``: longer recordings are refused;
    anything longer than ``chunk_seconds`` is decoded and transcribed chunk by chunk, so
    memory stays bounded by one chunk.
    """

    max_pixels: int = int(_env_float("TAMELLM_MAX_IMAGE_PIXELS", 40_000_000))
    max_file_bytes: int = int(_env_float("TAMELLM_MAX_MEDIA_BYTES", 500 * 1024 * 1024))
    max_pdf_pages: int = int(_env_float("TAMELLM_MAX_PDF_PAGES", 500))
    max_ocr_pages: int = int(_env_float("TAMELLM_MAX_OCR_PAGES", 50))
    max_audio_seconds: float = _env_float("TAMELLM_MAX_AUDIO_SECONDS", 4 * 3600.0)
    chunk_seconds: float = 300.0
    max_ocr_side: int = 2000  # larger pictures are scaled down for OCR (text stays readable, time stays bounded)


DEFAULT_LIMITS = MediaLimits()
