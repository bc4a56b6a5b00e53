"""Shared helpers for the benchmarks: data paths, timing, JSON + Markdown output."""

from __future__ import annotations

import csv
import json
import platform
import statistics
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
RESULTS = Path(__file__).resolve().parent / "results"


def read_sst2(split: str = "dev") -> tuple[list[str], list[int]]:
    """SST-2 sentences and 0/1 labels (TSV read with quoting off)."""
    with open(DATA / "sst2" / f"{split}.tsv", encoding="utf-8") as handle:
        rows = list(csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))[1:]
    return [r[0].strip() for r in rows], [int(r[1]) for r in rows]


def read_banking77(split: str = "test") -> tuple[list[str], list[str]]:
    """Banking77 texts and intent names."""
    with open(DATA / "banking77" / f"{split}.csv", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return [r["text"] for r in rows], [r["category"] for r in rows]


def median_time(fn: Callable[[], object], repeats: int = 5, warmup: int = 1) -> tuple[float, list[float]]:
    """Median wall time of ``fn`` over ``repeats`` runs (after ``warmup`` runs)."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), times


def interleaved_medians(
    runs: dict[str, Callable[[], object]], repeats: int = 5, warmup: int = 1
) -> dict[str, tuple[float, list[float]]]:
    """Median wall time of each run, measured round-robin (A, B, C, A, B, C, ...).

    Interleaving spreads background noise over every run alike, so ratios between
    runs of the same round stay meaningful on a busy machine.
    """
    for fn in runs.values():
        for _ in range(warmup):
            fn()
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(repeats):
        for name, fn in runs.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return {name: (statistics.median(t), t) for name, t in times.items()}


def machine() -> dict:
    """What the numbers were measured on."""
    import os

    import torch

    return {"python": platform.python_version(), "cpus": os.cpu_count(), "torch": torch.__version__,
            "torch_threads": torch.get_num_threads(), "date": time.strftime("%Y-%m-%d %H:%M")}


def write_results(name: str, data: dict, table: list[dict]) -> Path:
    """Write results/NAME.json and results/NAME.md (a Markdown table of ``table``)."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    data = {"benchmark": name, "machine": machine(), **data}
    (RESULTS / f"{name}.json").write_text(json.dumps(data, indent=2) + "\n")
    columns = list(table[0]) if table else []
    lines = [f"# {name}", "", f"Measured {data['machine']['date']} on {data['machine']['cpus']} CPUs, "
             f"torch {data['machine']['torch']}.", ""]
    lines += ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(str(row[c]) for c in columns) + " |" for row in table]
    md = RESULTS / f"{name}.md"
    md.write_text("\n".join(lines) + "\n")
    return md
