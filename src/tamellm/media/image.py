"""Images (PNG, JPEG, WebP, ...): checked before decoding, then read by OCR."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from tamellm.errors import InputError
from tamellm.media.limits import DEFAULT_LIMITS, MediaLimits
from tamellm.media.types import MediaText

IMAGE_FORMATS = {"PNG", "JPEG", "WEBP", "BMP", "TIFF", "GIF"}  # Pillow's names of the formats accepted


def check_pixels(width: int, height: int, what: str, limits: MediaLimits) -> None:
    """Refuse a picture larger than ``limits.max_pixels`` (before it is decoded)."""
    if width * height > limits.max_pixels:
        raise InputError(f"{what} is {width} x {height} pixels ({width * height / 1e6:.0f} megapixels), more than "
                         f"the limit of {limits.max_pixels / 1e6:.0f} megapixels (a decompression bomb, or a "
                         f"scan at a needlessly high resolution)",
                         "scale it down, or raise the limit with TAMELLM_MAX_IMAGE_PIXELS")


def open_image(path: Path, limits: MediaLimits = DEFAULT_LIMITS):  # -> PIL.Image.Image
    """The image at ``path`` decoded as RGB, after checking its format and size from the header."""
    from PIL import Image, UnidentifiedImageError

    previous = Image.MAX_IMAGE_PIXELS
    # Pillow's own bomb check would stop at open() with its message; our limit (checked from the
    # header, before any decoding) decides instead, and names the limit and how to raise it.
    Image.MAX_IMAGE_PIXELS = None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            probe = Image.open(path)  # reads the header only
            fmt = probe.format or "?"
            if fmt not in IMAGE_FORMATS:
                raise InputError(f"{path}: {fmt} images are not supported",
                                 f"use one of: {', '.join(sorted(IMAGE_FORMATS))}")
            check_pixels(*probe.size, f"Image {path}", limits)
            probe.load()
            return probe.convert("RGB")
    except InputError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise InputError(f"{path} is not a readable image ({type(exc).__name__}: {exc})",
                         "pass an intact PNG, JPEG or WebP file") from None
    finally:
        Image.MAX_IMAGE_PIXELS = previous


def ocr_image(image, limits: MediaLimits = DEFAULT_LIMITS, page: int | None = None) -> list:
    """OCR segments of a PIL image (scaled down to ``limits.max_ocr_side`` first; boxes in original pixels)."""
    from tamellm.media.ocr import ocr_array

    scale = min(1.0, limits.max_ocr_side / max(image.size))
    if scale < 1.0:
        image = image.resize((max(1, round(image.width * scale)), max(1, round(image.height * scale))))
    return ocr_array(np.asarray(image.convert("RGB")), page=page, scale=scale)


def read_image(path: Path, limits: MediaLimits = DEFAULT_LIMITS, **_: object) -> MediaText:
    """The text in an image, line by line with boxes."""
    image = open_image(path, limits)
    segments = ocr_image(image, limits)
    return MediaText(str(path), "image", " ".join(s.text for s in segments), segments,
                     {"width": image.width, "height": image.height})
