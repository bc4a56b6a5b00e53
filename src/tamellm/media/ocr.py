"""Text in pictures through RapidOCR (PP-OCR det/rec/cls ONNX models shipped in the ``rapidocr`` wheel)."""

from __future__ import annotations

import logging
import threading
from typing import Any

import numpy as np

from tamellm.errors import MissingExtraError
from tamellm.media.types import Segment

logger = logging.getLogger(__name__)
_ENGINE: Any = None
_LOCK = threading.Lock()


def ocr_engine() -> Any:
    """The process's one RapidOCR engine (loading its three ONNX models takes seconds: done once)."""
    global _ENGINE
    with _LOCK:
        if _ENGINE is None:
            try:
                from rapidocr import RapidOCR
            except ImportError as exc:
                raise MissingExtraError("OCR needs the 'rapidocr' package (and onnxruntime)",
                                         "pip install rapidocr onnxruntime") from exc
            # rapidocr logs every model file it opens at INFO through its own handler, on stdout-like
            # streams: keep that out of the user's terminal and JSON output.
            logging.getLogger("RapidOCR").setLevel(logging.WARNING)
            _ENGINE = RapidOCR()
            logging.getLogger("RapidOCR").setLevel(logging.WARNING)
        return _ENGINE


def ocr_array(pixels: np.ndarray, page: int | None = None, scale: float = 1.0) -> list[Segment]:
    """Text lines in an RGB array, top to bottom, with their boxes in the original picture's pixels.

    ``scale`` is the factor the picture was shrunk by before OCR: boxes are mapped back.
    """
    result = ocr_engine()(pixels)
    texts = getattr(result, "txts", None) or ()
    boxes = getattr(result, "boxes", None)
    scores = getattr(result, "scores", None) or ()
    segments = []
    for i, text in enumerate(texts):
        if not str(text).strip():
            continue
        box = None
        if boxes is not None and i < len(boxes):
            corners = np.asarray(boxes[i], dtype=float) / scale
            box = [round(float(corners[:, 0].min()), 1), round(float(corners[:, 1].min()), 1),
                   round(float(corners[:, 0].max()), 1), round(float(corners[:, 1].max()), 1)]
        score = round(float(scores[i]), 4) if i < len(scores) else None
        segments.append(Segment(str(text).strip(), "ocr", page=page, box=box, score=score))
    return segments
