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
        "data": read_json(folder / "data.json"),
    }


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
