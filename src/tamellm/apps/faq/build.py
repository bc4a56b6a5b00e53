"""Building a FAQ index folder from a FAQ file: read, embed, index, calibrate, write atomically."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

from tamellm.apps.faq import store
from tamellm.apps.faq.calibration import calibrate
from tamellm.apps.faq.checks import main_scripts, script_counts
from tamellm.apps.faq.entries import FaqEntry, FaqFileReport, read_faq
from tamellm.apps.faq.index import DEFAULT_ENCODER, FaqIndex


@dataclass
class BuildResult:
    """What ``build_faq`` wrote: the folder, the entries kept, the file report and the calibration."""

    folder: Path
    entries: int
    report: FaqFileReport
    calibration: dict
    seconds: float

    def to_dict(self) -> dict:
        return {"folder": str(self.folder), "entries": self.entries, "report": self.report.to_dict(),
                "calibration": self.calibration, "seconds": round(self.seconds, 2)}


def resolve_encoder(encoder: str | os.PathLike | None) -> str:
    """A catalog name as given, a folder as an absolute path (the index may be used from elsewhere)."""
    if encoder is None:
        return DEFAULT_ENCODER
    path = Path(encoder)
    return str(path.resolve()) if path.exists() else str(encoder)


def index_meta(index: FaqIndex, calibration: dict) -> dict:
    """Metadata stored beside the index: calibration and the scripts its text is written in."""
    texts = [e.question for e in index.entries] + [e.answer for e in index.entries]
    return {**index.meta, "calibration": calibration, "threshold": calibration["threshold"],
            "scripts": main_scripts(script_counts(texts))}


def build_index(entries: list[FaqEntry], encoder: str | os.PathLike | None = None,
                threshold: float | None = None) -> FaqIndex:
    """An index of ``entries`` with its handoff threshold calibrated (or ``threshold`` when given)."""
    index = FaqIndex.build(entries, resolve_encoder(encoder))
    calibration = calibrate(index)
    if threshold is not None:
        calibration = {**calibration, "calibrated_threshold": calibration["threshold"], "threshold": threshold,
                       "method": "given"}
    index.meta = index_meta(index, calibration)
    return index


def build_faq(data: str | os.PathLike, output: str | os.PathLike, encoder: str | os.PathLike | None = None,
              question_column: str | None = None, answer_column: str | None = None, id_column: str | None = None,
              threshold: float | None = None) -> BuildResult:
    """Read the FAQ file ``data``, index it with ``encoder`` (default ``minilm-l6``) and write it to ``output``."""
    start = time.perf_counter()
    store.check_target(output)  # before the slow part
    entries, report = read_faq(data, question_column, answer_column, id_column)
    index = build_index(entries, encoder, threshold)
    index.meta["source"] = report.to_dict()
    folder = store.save(index, output)
    return BuildResult(folder, len(entries), report, index.meta["calibration"], time.perf_counter() - start)
