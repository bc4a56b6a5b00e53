"""PDFs: the text layer through pypdf; pages without one (scans) through OCR of their pictures."""

from __future__ import annotations

import logging
from pathlib import Path

from tamellm.errors import InputError, MissingExtraError
from tamellm.media.limits import DEFAULT_LIMITS, MediaLimits
from tamellm.media.types import MediaText, Segment

logger = logging.getLogger(__name__)
MIN_PAGE_CHARS = 3  # a page with fewer characters in its text layer is treated as a scan


def _reader(path: Path):  # -> pypdf.PdfReader
    try:
        from pypdf import PdfReader
        from pypdf.errors import PdfReadError
    except ImportError as exc:
        raise MissingExtraError("Reading PDFs needs the 'pypdf' package", "pip install pypdf") from exc
    try:
        reader = PdfReader(path)
        if reader.is_encrypted and not reader.decrypt(""):
            raise InputError(f"{path} is encrypted with a password", "pass a copy without the password")
        return reader
    except InputError:
        raise
    except (PdfReadError, OSError, ValueError, KeyError, TypeError) as exc:
        raise InputError(f"{path} is not a readable PDF ({type(exc).__name__}: {exc})",
                         "pass an intact PDF file") from None


def _page_pictures(page, number: int, limits: MediaLimits) -> list:
    from tamellm.media.image import check_pixels

    pictures = []
    try:
        for item in page.images:
            image = item.image
            check_pixels(image.width, image.height, f"A picture on page {number}", limits)
            pictures.append(image)
    except InputError:
        raise
    except Exception as exc:  # a picture pypdf cannot decode: the page's text layer still counts
        logger.warning("page %d: a picture could not be decoded (%s)", number, exc)
    return pictures


def read_pdf(path: Path, limits: MediaLimits = DEFAULT_LIMITS, **_: object) -> MediaText:
    """Text per page with its page number; OCR boxes for scanned pages (in the picture's pixels)."""
    from tamellm.media.image import ocr_image

    reader = _reader(path)
    pages = len(reader.pages)
    if pages > limits.max_pdf_pages:
        raise InputError(f"{path} has {pages} pages, more than the limit of {limits.max_pdf_pages}",
                         "split it, or raise the limit with TAMELLM_MAX_PDF_PAGES")
    segments: list[Segment] = []
    ocr_pages = pictures_seen = 0
    for number, page in enumerate(reader.pages, start=1):
        try:
            text = (page.extract_text() or "").strip()
        except Exception as exc:  # a broken content stream on one page
            logger.warning("%s page %d: no text layer read (%s)", path, number, exc)
            text = ""
        if len(text) >= MIN_PAGE_CHARS:
            segments.append(Segment(" ".join(text.split()), "pdf-text", page=number))
            continue
        pictures = _page_pictures(page, number, limits)
        pictures_seen += len(pictures)
        if pictures:
            ocr_pages += 1
            if ocr_pages > limits.max_ocr_pages:
                raise InputError(f"{path} has more than {limits.max_ocr_pages} scanned pages to OCR",
                                 "split it, or raise the limit with TAMELLM_MAX_OCR_PAGES")
        for picture in pictures:
            segments.extend(ocr_image(picture, limits, page=number))
    if not segments:
        what = "no text layer and no pictures" if not pictures_seen else "pictures in which OCR found no text"
        raise InputError(f"{path} has {what} on any of its {pages} page(s)",
                         "pass a PDF with selectable text or scanned pages")
    return MediaText(str(path), "pdf", "\n".join(s.text for s in segments), segments,
                     {"pages": pages, "ocr_pages": ocr_pages})
