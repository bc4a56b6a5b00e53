"""Auto-compress for image classifiers: the same guard as the text path, over image methods.

``tamellm compress IMAGE_MODEL --data IMAGES/`` (or ``tamellm.compress``) reaches this through
``auto_compress``: every method of ``IMAGE_METHODS`` builds a candidate, each is measured on
the labelled validation images (accuracy, batch-1 latency, batch-32 images/s end to end from
the files, size), and the fastest whose accuracy is at most ``max_drop`` below the original's
is written to the output folder with candidates.json/.md. When none is inside the budget the
most accurate is kept with a warning, exactly as for text classifiers.

Text-only methods (dynamic int8 of Linear layers, pruning, low-rank, distillation) are listed
as not applicable: EfficientNet is convolutions, so only ONNX Runtime (fp32, or static int8
quantization, ``image_int8``) moves its cost.
"""

from __future__ import annotations

import gc
import logging
import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from tamellm.compression.auto import CompressResult, _output_for, keep_chosen
from tamellm.compression.base import COMPRESSORS, CompressionError, staged_folder
from tamellm.compression.image_int8 import compress_image_model
from tamellm.compression.measure import Measurement, load_task, percentile
from tamellm.errors import DataError, InputError
from tamellm.models.resolve import resolve
from tamellm.paths import folder_size
from tamellm.registry import Registry

log = logging.getLogger(__name__)

# name -> builder(source folder, output folder, calibration image paths) -> the candidate folder
ImageBuilder = Callable[[Path, Path, list[str]], Path]
IMAGE_METHODS: Registry[ImageBuilder] = Registry("image_compressors", "image compression method")
IMAGE_METHODS.register("onnx-int8", lambda source, out, calibration: compress_image_model(source, out, calibration))
IMAGE_METHODS.register("onnx-fp32", lambda source, out, calibration: compress_image_model(source, out, calibration,
                                                                                         quantize=False))
# fp32 ONNX is the safe candidate: when int8 misses the accuracy budget (it can: a weak model's
# close logits), the guard still has a faster-than-PyTorch copy with the original's answers.
DEFAULT_IMAGE_PLAN = ["onnx-int8", "onnx-fp32"]


def _plan(methods: list[str] | str | None) -> tuple[list[str], list[dict]]:
    """(image methods to build, rows for asked methods that only apply to text); InputError for unknown names."""
    if isinstance(methods, str):
        methods = [m.strip() for m in methods.split(",") if m.strip()]
    plan, failed = [], []
    for name in methods or DEFAULT_IMAGE_PLAN:
        if name in IMAGE_METHODS:
            plan.append(name)
        elif "+" in name or name in COMPRESSORS:
            failed.append({"method": name, "error": "a text-model method; image classifiers take: "
                                                    + ", ".join(IMAGE_METHODS)})
        else:
            raise InputError(f"Unknown compression method '{name}' for an image classifier",
                             "accepted: " + ", ".join(IMAGE_METHODS))
    if not plan:
        raise InputError("None of the methods asked for applies to an image classifier",
                         "accepted: " + ", ".join(IMAGE_METHODS) + " (e.g. --methods onnx-int8)")
    return plan, failed


def _labelled_images(data: str | os.PathLike, labels: list[str]) -> tuple[list[str], list[int]]:
    """Image paths and class ids from a folder per class or a CSV of path,label, on the model's labels."""
    from tamellm.training.task_adapters.image_classification import read_image_table

    table = read_image_table(data)
    index = {name: i for i, name in enumerate(labels)}
    unknown = sorted(set(table["label"]) - set(index))
    if unknown:
        raise DataError(f"{data}: label(s) {', '.join(unknown[:5])} are not the model's labels",
                        "the model's labels: " + ", ".join(labels))
    return table["path"].tolist(), [index[label] for label in table["label"]]


def measure_images(folder: Path, method: str, paths: list[str], ids: list[int], latency_images: int = 32,
                   repeats: int = 3, details: dict | None = None) -> Measurement:
    """Accuracy on ``paths``; batch-1 latency p50/p95 on the first ``latency_images``; images/s at batch 32
    from the files (decode + resize + network: what a caller waits for), the median of ``repeats`` passes."""
    model = load_task(Path(folder), "image-classify")
    model.predict(paths[:8], batch_size=32)  # warm-up (first-call allocations, ONNX session)
    passes, results = [], []
    for _ in range(max(1, repeats)):
        start = time.perf_counter()
        results = model.predict(paths, batch_size=32)
        passes.append(time.perf_counter() - start)
    labels = model.labels
    accuracy = sum(int(labels.index(r.label) == y) for r, y in zip(results, ids, strict=True)) / len(ids)
    latencies = []
    for path in paths[:latency_images]:
        start = time.perf_counter()
        model.predict([path], batch_size=1)
        latencies.append((time.perf_counter() - start) * 1000)
    return Measurement(method=method, path=str(folder), size_bytes=folder_size(Path(folder)),
                       accuracy=round(accuracy, 4), latency_p50_ms=round(percentile(latencies, 50), 3),
                       latency_p95_ms=round(percentile(latencies, 95), 3),
                       throughput=round(len(paths) / statistics.median(passes), 1), details=details or {})


def auto_compress_images(model: str | os.PathLike, data: str | os.PathLike, max_drop: float = 0.01,
                         methods: list[str] | str | None = None, output: str | os.PathLike | None = None,
                         train_data: str | os.PathLike | None = None, repeats: int = 3, latency_images: int = 32,
                         **ignored: object) -> CompressResult:
    """Compress an image classifier folder; the fastest candidate within ``max_drop`` of its accuracy on ``data``.

    Calibration images come from ``train_data`` (a folder per class or a CSV) when given, else from
    ``data``; int8 ranges measured on the validation images themselves fit them slightly better than
    unseen images would, so pass training images when the numbers matter.
    """
    from tamellm.models.image_net import load_image_net

    if not 0 <= max_drop <= 1:
        raise InputError(f"max_drop must be between 0 and 1 (accuracy points as a fraction), got {max_drop}",
                         "e.g. 0.01 for one point of accuracy")
    resolved = resolve(model)
    source = resolved.path.resolve()
    plan, failed = _plan(methods)
    out = _output_for(source, output, resolved.name)
    _, labels = load_image_net(source)
    paths, ids = _labelled_images(data, labels)
    calibration = _labelled_images(train_data, labels)[0] if train_data is not None else paths
    with staged_folder(out) as work:
        root = work / ".candidates"
        root.mkdir()
        baseline = measure_images(source, "original", paths, ids, latency_images, repeats)
        log.info("original: accuracy %.4f, %.1f images/s", baseline.accuracy, baseline.throughput)
        built: dict[str, Path] = {}
        measured = []
        for name in plan:
            try:
                built[name] = IMAGE_METHODS[name](source, root / name, calibration)
            except (CompressionError, InputError, RuntimeError, ValueError) as exc:
                failed.append({"method": name, "error": f"{type(exc).__name__}: {exc}"[:300]})
                continue
            details = {"calibration_images": min(len(calibration), 64),
                       "calibration_from": "train_data" if train_data is not None else "validation data"}
            measured.append(measure_images(built[name], name, paths, ids, latency_images, repeats, details))
            log.info("%s: accuracy %.4f, %.1f images/s", name, measured[-1].accuracy, measured[-1].throughput)
            gc.collect()
        result = keep_chosen(work, out, source, root, built, baseline, measured, failed, max_drop,
                             throughput_label="images/s")
    if result.warning:
        log.warning(result.warning)
    return result
