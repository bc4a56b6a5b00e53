"""Measuring a model folder on this machine: accuracy, latency, throughput, size on disk.

Used by auto-compress to choose and by the benchmark to report, so both measure the
same way: through tamellm's own task model (tokenizer, length-sorted batches,
``inference_mode``), as users run it.
"""

from __future__ import annotations

import os
import statistics
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from tamellm.errors import DataError
from tamellm.paths import folder_size


@dataclass
class Measurement:
    """One candidate measured: where it is and how it did."""

    method: str
    path: str
    size_bytes: int
    accuracy: float
    latency_p50_ms: float
    latency_p95_ms: float
    throughput: float  # texts per second at batch 32
    details: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        """A JSON-ready dict."""
        return asdict(self)


def read_labelled(path: str | os.PathLike, label_names: list[str], text_column: str | None = None,
                  label_column: str | None = None) -> tuple[list[str], list[int]]:
    """Texts and class ids of a labelled file, mapped onto the model's labels.

    Labels may be the model's label names or their indices (0..n-1).
    """
    from tamellm.data import infer_columns, read_table

    frame = read_table(path, text_column, label_column)
    choice = infer_columns(frame, text_column, label_column, require_label=True)
    frame = frame.dropna(subset=[choice.text, choice.label])
    texts = frame[choice.text].fillna("").astype(str).tolist()
    raw = frame[choice.label].tolist()
    by_name = {name: i for i, name in enumerate(label_names)}
    ids = []
    for value in raw:
        key = str(value).strip()
        if key in by_name:
            ids.append(by_name[key])
        elif key.lstrip("-").isdigit() and 0 <= int(key) < len(label_names):
            ids.append(int(key))
        else:
            raise DataError(f"{path}: label {value!r} in column '{choice.label}' is not one of the model's labels",
                            f"use the names {label_names} or their indices 0..{len(label_names) - 1}")
    if not texts:
        raise DataError(f"{path} has no labelled rows", "add rows with a text and a label")
    return texts, ids


def load_task(folder: Path, task: str = "classify"):
    """A fresh (uncached) tamellm task model for ``folder``."""
    from tamellm.models.resolve import resolve
    from tamellm.tasks import build_task_model

    return build_task_model(resolve(folder), task, cached=False)


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0..100) by linear interpolation."""
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100
    low = int(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def measure_folder(folder: Path, method: str, texts: list[str], labels: list[int], latency_texts: int = 64,
                   repeats: int = 3, details: dict | None = None) -> Measurement:
    """Accuracy on ``texts``; batch-1 latency p50/p95 on the first ``latency_texts``; batch-32
    throughput over all texts (median of ``repeats`` passes); size of the folder on disk."""
    model = load_task(Path(folder))
    model.probabilities(texts[:32], batch_size=32)  # warm-up (first-call allocations)
    passes, probs = [], None
    for _ in range(max(1, repeats)):
        start = time.perf_counter()
        probs = model.probabilities(texts, batch_size=32)
        passes.append(time.perf_counter() - start)
    predicted = probs.argmax(-1).tolist()
    accuracy = sum(int(p == y) for p, y in zip(predicted, labels, strict=True)) / len(labels)
    latencies = []
    for text in texts[:latency_texts]:
        start = time.perf_counter()
        model.probabilities([text], batch_size=1)
        latencies.append((time.perf_counter() - start) * 1000)
    return Measurement(
        method=method, path=str(folder), size_bytes=folder_size(Path(folder)), accuracy=round(accuracy, 4),
        latency_p50_ms=round(percentile(latencies, 50), 3), latency_p95_ms=round(percentile(latencies, 95), 3),
        throughput=round(len(texts) / statistics.median(passes), 1), details=details or {},
    )
