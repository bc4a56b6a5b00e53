"""Compression on a fine-tuned MiniLM SST-2 classifier: size, latency, throughput, accuracy.

One command (under the shared heavy lock):
    flock /tmp/tamellm-heavy.lock .venv/bin/python bench/compress_sst2.py

Measures, in one run on this machine: a plain transformers ``pipeline`` on the fp32
model (the baseline), then ``tamellm.compression`` with every method and the useful chains
(fp32 through tamellm, dynamic int8, ONNX fp32/int8, magnitude and structured pruning,
low-rank, a 3-layer distilled student, ...), which measures each candidate the same way
(accuracy on the 872 dev sentences, batch-1 latency p50/p95, batch-32 throughput as the
median of several passes, size on disk) and picks the fastest within 1 point.
Writes bench/results/compress_sst2.json and .md.
"""

from __future__ import annotations

import argparse
import csv
import logging
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import read_sst2, write_results  # noqa: E402
from fixtures import sst2_classifier  # noqa: E402

from tamellm.compression.measure import percentile  # noqa: E402
from tamellm.paths import folder_size  # noqa: E402

LABELS = ["negative", "positive"]


def write_csv(path: Path, texts: list[str], labels: list[int]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label"])
        writer.writerows((t, LABELS[y]) for t, y in zip(texts, labels, strict=True))
    return path


def pipeline_baseline(folder: Path, texts: list[str], labels: list[int], repeats: int, latency_n: int) -> dict:
    """A plain transformers pipeline on the fp32 model: what users write without tamellm."""
    from transformers import pipeline

    pipe = pipeline("text-classification", model=str(folder), device="cpu")
    predicted = [LABELS.index(r["label"]) for r in pipe(texts, batch_size=32)]
    accuracy = sum(int(p == y) for p, y in zip(predicted, labels, strict=True)) / len(labels)
    passes = []
    for _ in range(repeats):
        start = time.perf_counter()
        pipe(texts, batch_size=32)
        passes.append(time.perf_counter() - start)
    start = time.perf_counter()
    pipe(texts)  # the pipeline's default batch size (1)
    default_throughput = len(texts) / (time.perf_counter() - start)
    latencies = []
    for text in texts[:latency_n]:
        start = time.perf_counter()
        pipe(text)
        latencies.append((time.perf_counter() - start) * 1000)
    return {"method": "pipeline (baseline)", "size_bytes": folder_size(folder),
            "latency_p50_ms": round(percentile(latencies, 50), 3),
            "latency_p95_ms": round(percentile(latencies, 95), 3),
            "throughput_per_s": round(len(texts) / statistics.median(passes), 1), "accuracy": round(accuracy, 4),
            "chosen": False, "throughput_default_batch_per_s": round(default_throughput, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="batch-32 passes per model (median)")
    parser.add_argument("--latency-texts", type=int, default=100, help="texts timed one by one")
    parser.add_argument("--distill-budget", type=float, default=300.0, help="seconds of distillation")
    parser.add_argument("--max-drop", type=float, default=0.01)
    parser.add_argument("--methods", default=None, help="comma-separated (default: all)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    import torch

    import tamellm

    torch.set_num_threads(2)
    teacher = sst2_classifier()
    dev_texts, dev_labels = read_sst2("dev")
    train_texts, train_labels = read_sst2("train")
    with tempfile.TemporaryDirectory(prefix="bench-compress-") as tmp:
        tmp = Path(tmp)
        dev = write_csv(tmp / "dev.csv", dev_texts, dev_labels)
        train = write_csv(tmp / "train.csv", train_texts, train_labels)
        baseline = pipeline_baseline(teacher, dev_texts, dev_labels, args.repeats, args.latency_texts)
        logging.info("pipeline baseline: %s", baseline)
        start = time.perf_counter()
        result = tamellm.compress(
            teacher, dev, max_drop=args.max_drop, methods=args.methods, output=tmp / "chosen", train_data=train,
            repeats=args.repeats, latency_texts=args.latency_texts, seed=0,
            params={"distill": {"layers": 3, "budget_s": args.distill_budget}, "low-rank": {"rank_ratio": 0.5}})
        compress_s = time.perf_counter() - start
    default_batch = baseline.pop("throughput_default_batch_per_s")
    rows = [baseline, *result.table()]
    by = {r["method"]: r for r in rows}
    base_tp, fp32 = baseline["throughput_per_s"], by["original"]
    for row in rows:
        row["x_pipeline_throughput"] = round(row["throughput_per_s"] / base_tp, 2)
        row["x_fp32_size"] = round(fp32["size_bytes"] / row["size_bytes"], 2)
        row["accuracy_drop_pts"] = round((fp32["accuracy"] - row["accuracy"]) * 100, 2)
    int8, student = by.get("dynamic-int8"), by.get("distill")
    goals = {}
    if int8:
        goals["int8_vs_fp32_throughput"] = round(int8["throughput_per_s"] / fp32["throughput_per_s"], 2)
        goals["int8_vs_fp32_latency_p50"] = round(fp32["latency_p50_ms"] / int8["latency_p50_ms"], 2)
        goals["int8_smaller"] = int8["x_fp32_size"]
        goals["int8_drop_pts"] = int8["accuracy_drop_pts"]
    chosen = by[result.chosen]
    goals["chosen"] = result.chosen
    goals["chosen_vs_pipeline_throughput"] = chosen["x_pipeline_throughput"]
    goals["pipeline_default_batch_throughput"] = default_batch
    goals["chosen_vs_pipeline_default_batch"] = round(chosen["throughput_per_s"] / default_batch, 2)
    if student:
        goals["student_accuracy_of_teacher"] = round(student["accuracy"] / fp32["accuracy"], 4)
        goals["student_vs_teacher_throughput"] = round(student["throughput_per_s"] / fp32["throughput_per_s"], 2)
        goals["student_vs_teacher_latency_p50"] = round(fp32["latency_p50_ms"] / student["latency_p50_ms"], 2)
    data = {"teacher": str(teacher), "dev_texts": len(dev_texts), "repeats": args.repeats,
            "max_drop": args.max_drop, "compress_seconds": round(compress_s, 1), "goals": goals,
            "warning": result.warning, "failed": result.failed, "rows": rows,
            "candidates_details": [c.to_dict() for c in result.candidates]}
    md = write_results("compress_sst2", data, rows)
    print(md.read_text())
    for key, value in goals.items():
        print(f"{key}: {value}")


if __name__ == "__main__":
    main()
