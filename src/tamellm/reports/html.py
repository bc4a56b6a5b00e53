"""One self-contained HTML report per run (or tune) folder: metrics, plots, data summary, HPO history.

The page works offline: plotly.js is written inline once. It reads only the files a run
folder holds (result.json, params.json, metrics.jsonl, data.json, hpo.json,
model/tamellm.json, robustness.json written by ``tamellm robustness RUN``); a section whose
file is missing is left out.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from pathlib import Path
from typing import Any

from tamellm.errors import InputError
from tamellm.reports import plots
from tamellm.reports.template import PAGE
from tamellm.run_folders import read_json

logger = logging.getLogger(__name__)


def read_history(path: Path) -> list[dict]:
    """The rows of metrics.jsonl (a torn last line, left by a killed run, is skipped)."""
    if not path.is_file():
        return []
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            row = json.loads(line)
        except ValueError:
            logger.warning("skipping a malformed line of %s", path)
            continue
        if isinstance(row, dict):
            rows.append(row)
    return rows


def _metric_rows(metrics: dict) -> list[dict]:
    """Scalar metrics per split as table rows."""
    names = []
    for split_metrics in metrics.values():
        for key, value in (split_metrics or {}).items():
            if isinstance(value, int | float) and not isinstance(value, bool) and key not in names:
                names.append(key)
    return [{"name": n, "values": {s: (m or {}).get(n) for s, m in metrics.items()}} for n in names]


def _per_class(metrics: dict) -> tuple[str | None, dict]:
    for split in ("test", "validation"):
        part = metrics.get(split) or {}
        table = part.get("per_class") or part.get("per_type")
        if table:
            return split, table
    return None, {}


def _confusion(metrics: dict) -> str | None:
    for split in ("test", "validation"):
        part = metrics.get(split) or {}
        if part.get("confusion_matrix") and part.get("labels"):
            return plots.confusion_matrix(part["confusion_matrix"], part["labels"], split)
    return None


def _data_summary(data: Any) -> tuple[dict | None, list[dict]]:
    """The column choice and the validation issues from data.json, wherever the trainer put them."""
    if not isinstance(data, dict):
        return None, []
    columns = data.get("columns") or data.get("column_choice")
    issues = data.get("issues")
    for key in ("validation", "report", "validation_report"):
        if issues is None and isinstance(data.get(key), dict):
            issues = data[key].get("issues")
    return (columns if isinstance(columns, dict) else None), [i for i in issues or [] if isinstance(i, dict)]


def _explanations(model_dir: Path, texts: list[str] | None) -> str | None:
    """An HTML fragment explaining the model's prediction for a few texts."""
    if not texts or not model_dir.is_dir():
        return None
    from tamellm.explanations import explain
    from tamellm.explanations.render_html import explanation_fragment
    from tamellm.tasks import load

    try:
        model = load(model_dir)
        return explanation_fragment([explain(model, text) for text in texts])
    except Exception as exc:  # a report must not fail because one optional section did
        logger.warning("no explanations in the report: %s", exc)
        return None


def _robustness(folder: Path) -> dict | None:
    """The robustness result of the run (robustness.json, by ``tamellm robustness RUN``), checked for shape."""
    found = read_json(folder / "robustness.json")
    if not isinstance(found, dict) or not isinstance(found.get("tests"), list):
        return None
    found["page"] = "robustness.html" if (folder / "robustness.html").is_file() else None
    found["metric"] = "entity F1" if found.get("task") == "ner" else "accuracy"
    return found


def render_report(run_dir: str | os.PathLike, explain_texts: list[str] | None = None) -> str:
    """The HTML page of a run or tune folder, as a string."""
    from markupsafe import Markup
    from plotly.offline import get_plotlyjs

    folder = Path(run_dir)
    result = read_json(folder / "result.json")
    if not isinstance(result, dict):
        raise InputError(f"{folder} is not a run folder (no readable result.json)",
                         "pass a folder written by tamellm train or tamellm tune")
    card = read_json(folder / "model" / "tamellm.json") or {}
    params = read_json(folder / "params.json") or result.get("params") or {}
    metrics = result.get("metrics") or {k: result[k] for k in ("validation", "test") if k in result}
    primary = card.get("primary_metric") or result.get("primary_metric")
    primary = primary[0] if isinstance(primary, list | tuple) else primary
    history = read_history(folder / "metrics.jsonl")
    hpo = read_json(folder / "hpo.json")
    if not history and isinstance(hpo, dict) and hpo.get("best_run"):
        history = read_history(Path(hpo["best_run"]) / "metrics.jsonl")
    figures = plots.learning_curves(history, primary)
    confusion = _confusion(metrics)
    split, per_class = _per_class(metrics)
    hpo_plot = None
    if isinstance(hpo, dict) and hpo.get("trials"):
        hpo_plot = plots.hpo_history(hpo["trials"], hpo.get("metric"), hpo.get("direction", "maximize"))
    explanation = _explanations(folder / "model", explain_texts)
    data = read_json(folder / "data.json")
    columns, issues = _data_summary(data)
    return PAGE.render(
        title=f"tamellm run {folder.name}",
        folder=str(folder), task=card.get("task") or result.get("task"),
        strategy=params.get("strategy") or card.get("strategy"), primary=primary,
        seconds=result.get("seconds"), stopped_early=result.get("stopped_early"), best_step=result.get("best_step"),
        model=str(folder / "model") if (folder / "model").is_dir() else None,
        splits=list(metrics), metric_rows=_metric_rows(metrics), params=params,
        curves=[Markup(f) for f in figures], confusion=Markup(confusion) if confusion else None,
        per_class_split=split, per_class=per_class,
        hpo=hpo if isinstance(hpo, dict) else None, hpo_plot=Markup(hpo_plot) if hpo_plot else None,
        data=data if isinstance(data, dict) else None, columns=columns, issues=issues,
        data_json=json.dumps(data, indent=2, ensure_ascii=False, default=str) if data else None,
        explanations=Markup(explanation) if explanation else None, robustness=_robustness(folder),
        plotlyjs=Markup(get_plotlyjs()) if (figures or confusion or hpo_plot) else None,
    )


def write_report(run_dir: str | os.PathLike, output: str | os.PathLike | None = None,
                 explain_texts: list[str] | None = None) -> Path:
    """Write the report (default ``<run_dir>/report.html``) through a temporary file, then rename."""
    page = render_report(run_dir, explain_texts)
    path = Path(output) if output else Path(run_dir) / "report.html"
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(prefix=".report-", suffix=".html", dir=path.parent)
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        out.write(page)
    os.chmod(tmp, 0o644)  # mkstemp makes it private; a report is meant to be shared
    os.replace(tmp, path)
    logger.info("wrote the report %s", path)
    return path

