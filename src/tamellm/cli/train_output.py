"""What ``tamellm train`` and ``tamellm tune`` share: their options and the final summary."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from tamellm.cli.common import console, err_console

DataOption = Annotated[Path | None, typer.Option("--data", "-d", help="Training data (csv, tsv, jsonl, parquet, "
                                                                     "conll).")]
OutputOption = Annotated[Path | None, typer.Option("--output", "-o", help="Run / tune folder (default: "
                                                                          "runs/<name>).")]
BudgetOption = Annotated[str | None, typer.Option("--budget", help="Wall-clock budget for tuning, e.g. 90s, "
                                                                   "10m, 1h.")]
TrialsOption = Annotated[int | None, typer.Option("--trials", help="Number of tuning trials.")]
SeedOption = Annotated[int | None, typer.Option("--seed", help="Random seed.")]
ConfigOption = Annotated[Path | None, typer.Option("--config", help="YAML config (see tamellm init).")]
ResumeOption = Annotated[bool, typer.Option("--resume", help="Continue the run or tune in --output.")]
RayOption = Annotated[str | None, typer.Option("--ray-address", help="Ray cluster address (runs trials on "
                                                                     "Ray Tune).")]
BackendOption = Annotated[str | None, typer.Option("--backend", help="optuna | ray")]
TextColumnOption = Annotated[str | None, typer.Option("--text-column", help="Text column (inferred).")]
LabelColumnOption = Annotated[str | None, typer.Option("--label-column", help="Label column (inferred).")]
TaskOption = Annotated[str | None, typer.Option("--task", help="classify | ner | generate")]


def plain(value: Any) -> Any:
    """Dataclasses, paths and tuples as JSON-ready values."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if hasattr(value, "to_dict"):
        return plain(value.to_dict())
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    return value


def show_columns(info: dict) -> None:
    """Which columns were chosen, and why (on stderr, so --json stays clean)."""
    if info.get("text"):
        err_console.print(f"text column: [bold]{info['text']}[/] ({info.get('reason_text', '')})")
    if info.get("label"):
        err_console.print(f"label column: [bold]{info['label']}[/] ({info.get('reason_label', '')})")
    for note in info.get("notes", []):
        err_console.print(f"[dim]{note}[/]")


def metrics_table(metrics: dict, title: str) -> Table:
    """Scalar metrics per split."""
    splits = [s for s, m in metrics.items() if isinstance(m, dict)]
    names: list[str] = []
    for split in splits:
        names += [k for k, v in metrics[split].items()
                  if isinstance(v, int | float) and not isinstance(v, bool) and k not in names]
    table = Table(title=title)
    table.add_column("metric")
    for split in splits:
        table.add_column(split, justify="right")
    for name in names:
        values = [metrics[s].get(name) for s in splits]
        table.add_row(name, *[f"{v:.4f}" if isinstance(v, float) else str(v if v is not None else "")
                              for v in values])
    return table


def show_summary(metrics: dict, model_dir: Path, report: Path | None, seconds: float, extra: str = "") -> None:
    """The end of a run: metrics, where the model and the report are."""
    console.print(metrics_table(metrics, f"results ({seconds:.0f} s){extra}"))
    console.print(f"model:  [bold]{model_dir}[/]   (tamellm classify --model {model_dir} \"some text\")")
    if report is not None:
        console.print(f"report: [bold]{report}[/]")


def show_tune_summary(result: Any) -> None:
    """The end of a tune: one panel with the trials, the best trial's params and metrics, and where things are."""
    from rich.console import Group
    from rich.panel import Panel

    from tamellm.progress import describe_params

    trials = [t for t in result.trials if t["state"] != "SKIPPED"]
    done = sum(t["state"] == "COMPLETE" for t in trials)
    pruned = sum(t["state"] == "PRUNED" for t in trials)
    best = next((t for t in trials if t["params"] == result.best_params and t["value"] == result.best_value), {})
    strategy = result.best_params.get("strategy", "")
    lines = [f"{len(trials)} trials ({done} complete, {pruned} pruned) in {result.seconds:.0f} s",
             f"best: trial {best.get('number', '?')}, {strategy}  {describe_params(result.best_params)}  "
             f"-> validation {result.metric} [bold]{result.best_value:.4f}[/]",
             f"model:  [bold]{result.model_dir}[/]   (tamellm classify --model {result.model_dir} \"some text\")",
             f"report: [bold]{result.tune_dir / 'report.html'}[/]   log: {result.tune_dir / 'log.txt'}"]
    if result.refit:
        lines.insert(2, f"refit: trained again on {result.refit['train_rows']} rows (train + validation) in "
                        f"{result.refit['seconds']:.0f} s; its test metrics are below")
    body = Group(metrics_table(result.best_run.metrics, "best model"), *lines)
    console.print(Panel(body, title="AutoTune", title_align="left"))
