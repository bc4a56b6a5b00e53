"""The one progress helper: a rich progress bar with loss, metric and ETA.

Silent when stderr is not a terminal, when ``enabled=False`` or when the environment
sets ``TAMELLM_PROGRESS=0``; code below ``api.py`` reports progress only through it.
"""

from __future__ import annotations

import os
import sys
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
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn, TimeRemainingColumn
    from rich.progress import Progress as RichProgress

    columns = (TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
               TextColumn("eta"), TimeRemainingColumn(), TextColumn("{task.fields[info]}"))
    with RichProgress(*columns, console=Console(stderr=True), transient=False) as bar:
        task_id = bar.add_task(description, total=total, completed=completed, info="")
        yield Progress(bar, task_id)
