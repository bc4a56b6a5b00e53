"""Auto-compress: try the methods (and chains of them), measure, keep the fastest inside the budget.

Every candidate is built in a temporary folder, measured on this machine (accuracy on
the validation data, batch-1 latency p50/p95, batch-32 throughput, size on disk) and
compared with the original model measured the same way. The chosen candidate is the
one with the highest throughput whose accuracy is at most ``max_drop`` below the
original's; when none is, the most accurate one is returned with a warning. The output
folder holds the chosen model (a normal tamellm model folder) plus candidates.json and
candidates.md, the table it was chosen from. The original folder is never written to.
"""

from __future__ import annotations

import gc
import importlib
import json
import logging
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from tamellm.compression.base import (
    COMPRESSORS,
    CompressContext,
    CompressionError,
    get_compressor,
    read_manifest,
    staged_folder,
    write_manifest,
)
from tamellm.compression.folders import check_compressible
from tamellm.compression.measure import Measurement, measure_folder, read_labelled
from tamellm.errors import InputError
from tamellm.models.resolve import resolve

log = logging.getLogger(__name__)

# Tasks other than text classification that have their own auto-compress (imported when used).
OTHER_TASKS = {"image-classify": "tamellm.compression.image_auto:auto_compress_images"}
# Single methods and the chains worth trying (a chain runs left to right on the previous output).
DEFAULT_PLAN = [
    "dynamic-int8", "onnx-fp32", "onnx-int8", "prune-magnitude", "prune-structured", "low-rank", "distill",
    "prune-structured+dynamic-int8", "prune-structured+onnx-int8", "low-rank+dynamic-int8",
    "distill+dynamic-int8", "distill+onnx-int8",
]


@dataclass
class CompressResult:
    """What auto-compress tried and chose. ``path`` is the chosen model folder."""

    path: Path
    chosen: str
    baseline: Measurement
    candidates: list[Measurement]
    failed: list[dict] = field(default_factory=list)
    max_drop: float = 0.01
    within_budget: bool = True
    warning: str | None = None

    def to_dict(self) -> dict:
        """A JSON-ready dict (the content of candidates.json)."""
        return {"path": str(self.path), "chosen": self.chosen, "max_drop": self.max_drop,
                "within_budget": self.within_budget, "warning": self.warning,
                "baseline": self.baseline.to_dict(), "candidates": [c.to_dict() for c in self.candidates],
                "failed": self.failed}

    def table(self) -> list[dict]:
        """One row per measured model: method, size, latency, throughput, accuracy and the choice."""
        rows = []
        for m in [self.baseline, *self.candidates]:
            rows.append({"method": m.method, "size_bytes": m.size_bytes, "latency_p50_ms": m.latency_p50_ms,
                         "latency_p95_ms": m.latency_p95_ms, "throughput_per_s": m.throughput,
                         "accuracy": m.accuracy, "chosen": m.method == self.chosen})
        return rows


def parse_plan(methods: list[str] | str | None) -> list[list[str]]:
    """Methods as chains: "a+b" runs b on a's output. Unknown names raise InputError."""
    if isinstance(methods, str):
        methods = [m.strip() for m in methods.split(",") if m.strip()]
    plan = [chain.split("+") for chain in (methods or DEFAULT_PLAN)]
    for chain in plan:
        for name in chain:
            get_compressor(name)  # raises with the known names
    return plan


def _output_for(source: Path, output: str | os.PathLike | None, name: str) -> Path:
    out = Path(output) if output else Path.cwd() / f"{name}-compressed"
    out = out.expanduser().resolve()
    if out == source or source in out.parents or out in source.parents:
        raise InputError(f"Output folder {out} would overwrite or contain the original model {source}",
                         "choose an --output folder outside the model folder")
    if out.exists() and any(out.iterdir()) and not (out / "candidates.json").exists():
        raise InputError(f"Output folder {out} exists and is not a tamellm compress output",
                         "choose a new or empty --output folder")
    return out


def _labels_of(source: Path) -> list[str]:
    config = json.loads((source / "config.json").read_text(encoding="utf-8"))
    id2label = config.get("id2label") or {}
    return [str(id2label.get(str(i), id2label.get(i, i))) for i in range(len(id2label))]


def auto_compress(
    model: str | os.PathLike,
    data: str | os.PathLike,
    max_drop: float = 0.01,
    methods: list[str] | str | None = None,
    output: str | os.PathLike | None = None,
    train_data: str | os.PathLike | None = None,
    text_column: str | None = None,
    label_column: str | None = None,
    seed: int = 0,
    budget_s: float = 300.0,
    params: dict[str, dict] | None = None,
    repeats: int = 3,
    latency_texts: int = 64,
) -> CompressResult:
    """Compress ``model`` with every method of ``methods`` and keep the fastest within ``max_drop``.

    ``params`` maps a method name to its options (e.g. ``{"distill": {"layers": 3}}``).
    """
    if not 0 <= max_drop <= 1:
        raise InputError(f"max_drop must be between 0 and 1 (accuracy points as a fraction), got {max_drop}",
                         "e.g. 0.01 for one point of accuracy")
    resolved = resolve(model)
    if resolved.task in OTHER_TASKS:  # same guard and outputs, the task's own methods and measurement
        module, _, function = OTHER_TASKS[resolved.task].partition(":")
        return getattr(importlib.import_module(module), function)(
            model, data, max_drop=max_drop, methods=methods, output=output, train_data=train_data, repeats=repeats)
    if resolved.task != "classify":
        raise InputError(f"Model '{resolved.name}' is a {resolved.task} model; compress measures accuracy on "
                         "classifiers, so it takes classifiers only",
                         "pass a fine-tuned classifier folder (task classify); use this model as it is "
                         "(tamellm serve / predict)")
    source = resolved.path.resolve()
    plan = parse_plan(methods)
    check_compressible(resolved, sorted({step for chain in plan for step in chain}, key=list(COMPRESSORS).index))
    out = _output_for(source, output, resolved.name)
    labels = _labels_of(source)
    texts, ids = read_labelled(data, labels, text_column, label_column)
    ctx = CompressContext(texts, ids, seed=seed, budget_s=budget_s)
    if train_data is not None:
        ctx.train_texts, ctx.train_labels = read_labelled(train_data, labels, text_column, label_column)
    params = params or {}
    with staged_folder(out) as work:
        cand_root = work / ".candidates"
        cand_root.mkdir()
        baseline = measure_folder(source, "original", texts, ids, latency_texts, repeats)
        log.info("original: accuracy %.4f, %.1f texts/s", baseline.accuracy, baseline.throughput)
        built: dict[str, Path] = {}
        measured, failed = [], []
        for chain in plan:
            name = "+".join(chain)
            folder = _build_chain(chain, source, cand_root, built, ctx, params, failed)
            if folder is None:
                continue
            details = read_manifest(folder)
            measured.append(measure_folder(folder, name, texts, ids, latency_texts, repeats,
                                           {k: v for k, v in details.items() if k in ("compress", "onnx")}))
            log.info("%s: accuracy %.4f, %.1f texts/s, %d bytes", name, measured[-1].accuracy,
                     measured[-1].throughput, measured[-1].size_bytes)
            gc.collect()
        result = keep_chosen(work, out, source, cand_root, built, baseline, measured, failed, max_drop)
    if result.warning:
        log.warning(result.warning)
    return result


def keep_chosen(work: Path, out: Path, source: Path, candidates_root: Path, built: dict[str, Path],
                baseline: Measurement, measured: list[Measurement], failed: list[dict], max_drop: float,
                throughput_label: str | None = None) -> CompressResult:
    """Choose among the measured candidates, move the chosen one's files into the staged output ``work``
    (its manifest says what was chosen), drop the other candidates and write candidates.json/.md.

    ``throughput_label`` renames the Markdown table's throughput column (e.g. "images/s").
    """
    if not measured:
        raise CompressionError(f"No compression method worked on {source}",
                               "; ".join(f"{f['method']}: {f['error']}" for f in failed)[:500])
    result = _choose(out, baseline, measured, failed, max_drop)
    for item in built[result.chosen].iterdir():
        shutil.move(str(item), work / item.name)
    manifest = read_manifest(work)
    manifest.setdefault("compress_choice", {}).update(
        method=result.chosen, source=str(source), table="candidates.json", within_budget=result.within_budget)
    write_manifest(work, manifest)
    shutil.rmtree(candidates_root)
    for m in result.candidates:
        m.path = str(out) if m.method == result.chosen else "(not kept)"
    (work / "candidates.json").write_text(json.dumps(result.to_dict(), indent=2) + "\n", encoding="utf-8")
    table = markdown(result)
    if throughput_label:
        table = table.replace("throughput (/s)", throughput_label)
    (work / "candidates.md").write_text(table, encoding="utf-8")
    return result


def _build_chain(chain: list[str], source: Path, root: Path, built: dict[str, Path], ctx: CompressContext,
                 params: dict[str, dict], failed: list[dict]) -> Path | None:
    """Build (or reuse) every prefix of ``chain``; None (and a row in ``failed``) when a step cannot work."""
    previous = source
    for depth in range(1, len(chain) + 1):
        key = "+".join(chain[:depth])
        if key not in built:
            if any(f["method"] == key for f in failed):
                return None
            folder = root / key
            step = chain[depth - 1]
            try:
                with staged_folder(folder) as tmp:
                    get_compressor(step, **params.get(step, {})).run(previous, tmp, ctx)
            except CompressionError as exc:
                log.warning("%s skipped: %s", key, exc)
                failed.append({"method": key, "error": str(exc)})
                return None
            built[key] = folder
        previous = built[key]
    return previous


def _choose(out: Path, baseline: Measurement, measured: list[Measurement], failed: list[dict],
            max_drop: float) -> CompressResult:
    floor = baseline.accuracy - max_drop - 1e-9
    inside = [m for m in measured if m.accuracy >= floor]
    if inside:
        best = max(inside, key=lambda m: (m.throughput, -m.size_bytes))
        return CompressResult(out, best.method, baseline, measured, failed, max_drop)
    best = max(measured, key=lambda m: (m.accuracy, m.throughput))
    warning = (f"No candidate kept accuracy within {max_drop:.3f} of the original ({baseline.accuracy:.4f}); "
               f"returning the most accurate one, {best.method} ({best.accuracy:.4f}). "
               "Raise --max-drop or add methods (e.g. distill with --train-data).")
    return CompressResult(out, best.method, baseline, measured, failed, max_drop, False, warning)


def markdown(result: CompressResult) -> str:
    """The candidates table as Markdown."""
    rows = result.table()
    lines = [f"# Compression candidates (max drop {result.max_drop})", "",
             "| method | size (bytes) | latency p50 (ms) | latency p95 (ms) | throughput (/s) | accuracy | chosen |",
             "|---|---|---|---|---|---|---|"]
    lines += [f"| {r['method']} | {r['size_bytes']} | {r['latency_p50_ms']} | {r['latency_p95_ms']} | "
              f"{r['throughput_per_s']} | {r['accuracy']} | {'yes' if r['chosen'] else ''} |" for r in rows]
    if result.failed:
        lines += ["", "Not applicable:", *[f"- {f['method']}: {f['error']}" for f in result.failed]]
    if result.warning:
        lines += ["", f"Warning: {result.warning}"]
    return "\n".join(lines) + "\n"


__all__ = ["COMPRESSORS", "DEFAULT_PLAN", "CompressResult", "auto_compress", "markdown", "parse_plan"]
