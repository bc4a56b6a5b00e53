"""JSON views of run folders, uploaded data and the explainer registry, for the page's endpoints."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from tamellm.api import inspect_data, list_models, runs
from tamellm.errors import InputError
from tamellm.run_folders import read_json

PREVIEW_ROWS = 8
MAX_PREVIEW_CHARS = 300  # per cell: the preview is a glance, not the data
TRIAL_PARAMS = ("strategy", "learning_rate", "epochs", "batch_size", "lora_r")  # the trial table's columns
NOT_METRICS = {"step", "epoch", "split", "examples", "learning_rate", "train_loss", "loss", "seconds"}


def run_list(root: str | os.PathLike) -> list[dict]:
    """The runs and tunes under ``root`` (newest first); empty when the folder does not exist yet."""
    if not Path(root).is_dir():
        return []
    return runs(root)


def run_folder(root: str | os.PathLike, name: str) -> Path:
    """The run folder ``name`` (a path relative to ``root``), refusing anything outside ``root``."""
    base = Path(root).resolve()
    folder = (base / name).resolve()
    if base != folder and base not in folder.parents:
        raise InputError(f"Run '{name}' is outside the runs folder", "pass a name listed by /ui/api/runs")
    if not (folder / "result.json").is_file():
        raise InputError(f"No run called '{name}' under {base}", "pass a name listed by /ui/api/runs")
    return folder


def read_history(path: Path) -> list[dict]:
    """The rows of a metrics.jsonl (a torn last line, left by a killed run, is skipped)."""
    from tamellm.reports.html import read_history as read

    return read(path)


def _primary_value(row: dict, metric: str | None) -> tuple[str | None, float | None]:
    """The row's value of ``metric`` (else of its first metric that is not a loss or a counter)."""
    if metric and isinstance(row.get(metric), int | float):
        return metric, float(row[metric])
    for key, value in row.items():
        if key not in NOT_METRICS and isinstance(value, int | float) and not isinstance(value, bool):
            return key, float(value)
    return metric, None


def trial_rows(folder: Path) -> list[dict]:
    """The trial table of a tune folder, while it runs and after: one row per trials/NNN.

    State and final value come from hpo.json once the tune has finished; before that a trial
    with a result.json is complete and one without is running (or was stopped). ``best`` and
    ``last`` are the trial's validation metric so far, read from its metrics.jsonl.
    """
    trials = folder / "trials"
    if not trials.is_dir():
        return []
    hpo = read_json(folder / "hpo.json")
    final = {}
    metric = None
    if isinstance(hpo, dict):
        metric = hpo.get("metric")
        final = {t.get("number"): t for t in hpo.get("trials") or [] if isinstance(t, dict)}
    rows = []
    for sub in sorted(p for p in trials.iterdir() if p.is_dir() and p.name.isdigit()):
        number = int(sub.name)
        params = read_json(sub / "params.json") or {}
        history = read_history(sub / "metrics.jsonl")
        values = [v for v in (_primary_value(r, metric) for r in history) if v[1] is not None]
        name = values[-1][0] if values else metric
        done = (sub / "result.json").is_file()
        shown = [k for k in TRIAL_PARAMS if k != "lora_r" or "lora" in str(params.get("strategy", ""))]
        row = {"number": number, "params": {k: params[k] for k in shown if params.get(k) is not None},
               "metric": name, "last": values[-1][1] if values else None,
               "best": max(v for _, v in values) if values else None, "evaluations": len(values),
               "state": "complete" if done else "running"}
        if number in final:
            row["state"] = str(final[number].get("state", row["state"])).lower()
            row["value"] = final[number].get("value")
        rows.append(row)
    return rows


def run_detail(root: str | os.PathLike, name: str) -> dict[str, Any]:
    """A run's summary, metrics per split (confusion matrix included), params, learning curve rows, HPO trials."""
    from tamellm.run_folders import describe_run

    folder = run_folder(root, name)
    result = read_json(folder / "result.json") or {}
    metrics = result.get("metrics") or {k: result[k] for k in ("validation", "test") if k in result}
    history = read_history(folder / "metrics.jsonl")
    hpo = read_json(folder / "hpo.json")
    if not history and isinstance(hpo, dict) and hpo.get("best_run"):
        history = read_history(Path(hpo["best_run"]) / "metrics.jsonl")
    summary = describe_run(folder) or {}
    summary["name"] = str(folder.relative_to(Path(root).resolve()))
    return {
        "summary": summary,
        "metrics": metrics if isinstance(metrics, dict) else {},
        "params": read_json(folder / "params.json") or result.get("params") or {},
        "history": history,
        "hpo": hpo.get("trials") if isinstance(hpo, dict) else None,
        "hpo_metric": hpo.get("metric") if isinstance(hpo, dict) else None,
        "hpo_direction": hpo.get("direction") if isinstance(hpo, dict) else None,
        "data": data_summary(read_json(folder / "data.json")),
        "compression": compression_table(folder / "compressed"),
    }


def data_summary(record: Any) -> dict | None:
    """What the page shows of a run's data.json: files, rows per split, columns and why, notes, the report."""
    if not isinstance(record, dict):
        return None
    files = [{"path": f.get("path"), "bytes": f.get("bytes")} for f in record.get("files") or [] if isinstance(f, dict)]
    return {"files": files, "rows": record.get("rows") or {}, "columns": record.get("columns"),
            "notes": [str(n) for n in record.get("notes") or []], "task": record.get("task"),
            "validation_report": record.get("validation_report")}


def run_data_file(folder: Path) -> Path | None:
    """The first data file a run was trained on that still exists (data.json), for compressing its model."""
    record = read_json(folder / "data.json")
    for item in (record or {}).get("files") or [] if isinstance(record, dict) else []:
        path = Path(str(item.get("path", ""))) if isinstance(item, dict) else None
        if path is not None and path.is_file():
            return path
    return None


def faithfulness(model: str, text: str, method: str, labels: list[str] | None) -> list[dict]:
    """ERASER comprehensiveness / sufficiency of ``method`` on this one text, beside the random baseline."""
    from tamellm.api import compare_explainers

    return compare_explainers(model, [text], methods=[method], labels=labels)


def _cell(value: Any) -> Any:
    if isinstance(value, str) and len(value) > MAX_PREVIEW_CHARS:
        return value[:MAX_PREVIEW_CHARS] + "…"
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def data_preview(path: str | os.PathLike, task: str = "classify") -> dict[str, Any]:
    """The first rows of a table, the columns a training job would use (and why) and the validation report."""
    from tamellm.data import infer_columns, read_table, validate

    frame = read_table(path)
    columns = inspect_data(path, task=task)
    report = None
    if task == "classify":  # the validation report reads text and label columns
        report = validate(frame, infer_columns(frame, columns.get("text"), columns.get("label"))).to_dict()
    head = frame.head(PREVIEW_ROWS)
    rows = [[_cell(v) for v in row] for row in head.itertuples(index=False, name=None)]
    return {
        "columns": [str(c) for c in frame.columns],
        "rows": rows,
        "total_rows": len(frame),
        "inferred": columns,
        "validation": report,
    }


def explainer_names() -> list[str]:
    """Every attribution method in the explain registry."""
    from tamellm.explanations import method_names

    return method_names()


def compression_table(folder: str | os.PathLike) -> dict[str, Any] | None:
    """The candidates table auto-compress left in ``folder`` (candidates.json), or None when it has none."""
    data = read_json(Path(folder) / "candidates.json")
    if not isinstance(data, dict) or not isinstance(data.get("baseline"), dict):
        return None
    keys = ("method", "size_bytes", "accuracy", "latency_p50_ms", "throughput")
    rows = [{k: m.get(k) for k in keys} | {"chosen": m.get("method") == data.get("chosen")}
            for m in [data["baseline"], *(data.get("candidates") or [])] if isinstance(m, dict)]
    return {"chosen": data.get("chosen"), "max_drop": data.get("max_drop"), "warning": data.get("warning"),
            "rows": rows}


def model_size(folder: str | os.PathLike) -> int | None:
    """Bytes of a model folder on disk (None for a catalog name that is not a folder)."""
    from tamellm.paths import folder_size

    path = Path(folder)
    return folder_size(path) if path.is_dir() else None


def catalog() -> list[dict]:
    """The model catalog (name, role, task, size, licence, installed)."""
    return list_models()
