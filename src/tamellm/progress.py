"""The one progress helper: a rich progress bar with loss, metric and ETA, and a live table of tuning trials.

The training bar is silent when stderr is not a terminal, when ``enabled=False`` or when
the environment sets ``TAMELLM_PROGRESS=0``; code below ``api.py`` reports progress only
through this module. While a trial board is open (``trial_board``), training bars become
rows of the board's own progress (rich allows one live display at a time).
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


class Progress:
    """A handle to advance the bar and show extra fields (loss, metric)."""

    def __init__(self, bar: Any = None, task_id: Any = None) -> None:
        self._bar, self._task = bar, task_id

    def update(self, advance: int = 1, **fields: Any) -> None:
        """Move the bar ``advance`` steps and show ``fields`` (e.g. loss=0.3, accuracy=0.9)."""
        if self._bar is None:
            return
        text = "  ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in fields.items())
        kwargs = {"info": text} if fields else {}
        self._bar.update(self._task, advance=advance, **kwargs)

    def set_total(self, total: int) -> None:
        """Change the number of steps (e.g. when training stops early)."""
        if self._bar is not None:
            self._bar.update(self._task, total=total)


def _wanted(enabled: bool | None) -> bool:
    if enabled is not None:
        return enabled
    if os.environ.get("TAMELLM_PROGRESS", "").strip() in ("0", "false", "no"):
        return False
    return sys.stderr.isatty()


@contextmanager
def progress(description: str, total: int, completed: int = 0, enabled: bool | None = None) -> Iterator[Progress]:
    """A progress bar on stderr for ``total`` steps, starting at ``completed``."""
    if not _wanted(enabled):
        yield Progress()
        return
    if _board is not None and _board.bars is not None:
        task_id = _board.bars.add_task(description, total=total, completed=completed, info="")
        try:
            yield Progress(_board.bars, task_id)
        finally:
            _board.bars.remove_task(task_id)
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn, TimeRemainingColumn
    from rich.progress import Progress as RichProgress

    columns = (TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
               TextColumn("eta"), TimeRemainingColumn(), TextColumn("{task.fields[info]}"))
    with RichProgress(*columns, console=Console(stderr=True), transient=False) as bar:
        task_id = bar.add_task(description, total=total, completed=completed, info="")
        yield Progress(bar, task_id)


SHOWN_PARAMS = {"base_model": "on", "learning_rate": "lr", "epochs": "epochs", "batch_size": "batch", "lora_r": "r",
                "num_virtual_tokens": "tokens", "class_weights": "weights"}
MAX_ROWS = 20  # the board keeps the newest trials (and the best) on screen


def _value(value: Any) -> str:
    return f"{value:.3g}" if isinstance(value, float) else str(value)


def describe_params(params: dict) -> str:
    """The key hyperparameters of a trial, short: ``lr 0.0012  epochs 2  batch 16``."""
    return "  ".join(f"{short} {_value(params[key])}" for key, short in SHOWN_PARAMS.items() if key in params)


class TrialBoard:
    """Trials of a study as they run: a live table under a budget bar (terminal), or one line per trial.

    ``mode`` is "live" (rich), "lines" (plain text, one line per finished trial) or "off".
    """

    def __init__(self, metric: str, budget_s: float | None, trials: int | None, mode: str) -> None:
        self.metric, self.budget_s, self.trials, self.mode = metric, budget_s, trials, mode
        self.rows: dict[int, dict] = {}
        self.started_at = time.monotonic()
        self.bars: Any = None
        self._budget_task: Any = None
        self._stream = sys.stderr

    def start(self, number: int, params: dict) -> None:
        """Trial ``number`` began with ``params``."""
        self.rows[number] = {"number": number, "params": params, "state": "RUNNING", "value": None,
                             "seconds": None, "began": time.monotonic()}

    def finish(self, number: int, state: str, value: float | None, params: dict, seconds: float | None) -> None:
        """Trial ``number`` ended (COMPLETE, PRUNED, FAIL) with ``value`` after ``seconds``."""
        row = self.rows.setdefault(number, {"number": number, "began": time.monotonic()})
        row.update(params=params or row.get("params") or {}, state=state, value=value, seconds=seconds)
        if self.mode == "lines":
            shown = f"{self.metric} {value:.4f}" if value is not None else "no value"
            took = f"{seconds:.1f} s" if seconds is not None else ""
            strategy = row["params"].get("strategy", "")
            self._stream.write(f"trial {number} {state.lower()}  {strategy}  {describe_params(row['params'])}  "
                               f"{shown}  {took}\n")
            self._stream.flush()
        elif self.mode == "live" and self.trials and not self.budget_s:
            self.bars.update(self._budget_task, completed=sum(r["state"] != "RUNNING" for r in self.rows.values()))

    def _best(self) -> int | None:
        done = [r for r in self.rows.values() if r["state"] == "COMPLETE" and r["value"] is not None]
        return max(done, key=lambda r: r["value"])["number"] if done else None

    def table(self) -> Any:
        """The rich table of trials (newest last)."""
        from rich.table import Table

        table = Table(title=None, expand=False)
        for name, justify in (("#", "right"), ("strategy", "left"), ("hyperparameters", "left"),
                              (self.metric, "right"), ("state", "left"), ("s", "right")):
            table.add_column(name, justify=justify)
        best = self._best()
        numbers = sorted(self.rows)
        shown = numbers[-MAX_ROWS:]
        if best is not None and best not in shown:
            shown = [best, *shown[1:]]
        now = time.monotonic()
        for number in shown:
            row = self.rows[number]
            seconds = row["seconds"] if row["seconds"] is not None else now - row["began"]
            state = row["state"].lower()
            style = "bold green" if number == best else ("dim" if state in ("pruned", "fail") else None)
            table.add_row(str(number), str(row["params"].get("strategy", "")), describe_params(row["params"]),
                          "" if row["value"] is None else f"{row['value']:.4f}", state, f"{seconds:.0f}",
                          style=style)
        return table

    def render(self) -> Any:
        """Budget bar, current training bar and the table (called by rich on each refresh)."""
        from rich.console import Group

        if self.budget_s:
            self.bars.update(self._budget_task, completed=min(self.budget_s, time.monotonic() - self.started_at))
        return Group(self.bars, self.table())

    def open_bars(self) -> Any:
        """The rich Progress holding the budget bar (and the running trial's training bar)."""
        from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
        from rich.progress import Progress as RichProgress

        self.bars = RichProgress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                                 TimeElapsedColumn(), TextColumn("{task.fields[info]}"))
        if self.budget_s:
            self._budget_task = self.bars.add_task("budget (s)", total=int(self.budget_s), info="")
        else:
            self._budget_task = self.bars.add_task("trials", total=self.trials, info="")
        return self.bars


_board: TrialBoard | None = None


def _board_mode() -> str:
    if os.environ.get("TAMELLM_PROGRESS", "").strip() in ("0", "false", "no"):
        return "off"
    return "live" if sys.stderr.isatty() else "lines"


@contextmanager
def trial_board(metric: str, budget_s: float | None = None, trials: int | None = None,
                mode: str | None = None) -> Iterator[TrialBoard]:
    """Show the trials of a study on stderr while the block runs (see ``TrialBoard``)."""
    global _board
    board = TrialBoard(metric, budget_s, trials, mode or _board_mode())
    if board.mode != "live":
        yield board
        return
    from rich.console import Console
    from rich.live import Live

    board.open_bars()
    _board = board
    try:
        with Live(get_renderable=board.render, console=Console(stderr=True), refresh_per_second=4,
                  transient=False):
            yield board
    finally:
        _board = None
