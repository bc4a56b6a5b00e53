"""Listing training and tuning runs: every folder under a root that holds a ``result.json``.

A run folder (written by ``tamellm.training``) has result.json, params.json and model/;
a tune folder (written by ``tamellm.tuning``) has the same plus hpo.json, and its trials
live under trials/NNN (listed only when asked).
"""

from __future__ import annotations

import json
import logging
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tamellm.errors import InputError

logger = logging.getLogger(__name__)
MAX_DEPTH = 4


def read_json(path: Path) -> Any:
    """A JSON file's content, or None when it is missing or unreadable (logged)."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        logger.warning("skipping unreadable %s: %s", path, exc)
        return None


def _primary(metrics: dict, name: str | None) -> float | None:
    if not isinstance(metrics, dict):
        return None
    for key in (name, "accuracy", "f1", "rouge_l", "loss"):
        if key and isinstance(metrics.get(key), int | float):
            return float(metrics[key])
    return None


def describe_run(folder: str | os.PathLike) -> dict | None:
    """One run's summary (name, kind, task, strategy, metrics, seconds, date, model), or None if not a run."""
    folder = Path(folder)
    result = read_json(folder / "result.json")
    if not isinstance(result, dict):
        return None
    params = read_json(folder / "params.json") or result.get("params") or {}
    card = read_json(folder / "model" / "tamellm.json") or {}
    metrics = result.get("metrics") or {k: result[k] for k in ("validation", "test") if k in result}
    primary = card.get("primary_metric") or result.get("primary_metric")
    if isinstance(primary, list | tuple):
        primary = primary[0]
    finished = result.get("finished")
    if not finished:
        finished = datetime.fromtimestamp((folder / "result.json").stat().st_mtime, UTC).isoformat(timespec="seconds")
    return {
        "name": folder.name,
        "path": str(folder),
        "kind": "tune" if (folder / "hpo.json").is_file() else "run",
        "task": card.get("task") or result.get("task"),
        "strategy": params.get("strategy") or card.get("strategy"),
        "primary_metric": primary,
        "validation": _primary(metrics.get("validation"), primary),
        "test": _primary(metrics.get("test"), primary),
        "seconds": result.get("seconds"),
        "trials": result.get("trials"),
        "stopped_early": result.get("stopped_early"),
        "finished": finished,
        "model": str(folder / "model") if (folder / "model").is_dir() else None,
        "report": str(folder / "report.html") if (folder / "report.html").is_file() else None,
    }


def list_runs(root: str | os.PathLike = "runs", include_trials: bool = False) -> list[dict]:
    """Every run under ``root`` (newest first), with its key metrics; trials of a tune only when asked."""
    root = Path(root)
    if not root.is_dir():
        raise InputError(f"Runs folder {root} not found", "pass the folder given as --output to tamellm train")
    found = []
    for current, dirs, files in os.walk(root):
        here = Path(current)
        depth = len(here.relative_to(root).parts)
        dirs[:] = sorted(d for d in dirs if d not in ("model", "checkpoints", "tensorboard", "mlruns")
                         and depth < MAX_DEPTH and (include_trials or d != "trials"))
        if "result.json" in files:
            summary = describe_run(here)
            if summary is not None:
                found.append(summary)
    found.sort(key=lambda r: r["finished"] or "", reverse=True)
    return found
