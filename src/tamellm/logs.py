"""Where log records go while a run or a study works: everything into its log.txt, the terminal stays readable.

Optuna, MLflow (and the alembic migrations it runs), Ray and transformers log at INFO
through handlers of their own, straight to the terminal. ``run_log(folder)`` takes those
handlers away so that their records reach the root logger, writes every record at INFO
and above to ``<folder>/log.txt``, and lets the terminal show only what it showed
before (warnings; INFO too when the caller asked for it, e.g. ``tamellm --verbose``).
Nested blocks (the trials of a study) add their own log.txt; the outer block routes.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

LIBRARY_LOGGERS = ("optuna", "mlflow", "alembic", "huey", "sqlalchemy", "ray", "transformers")
WARNINGS_LOGGER = "py.warnings"
LOG_FILE = "log.txt"
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class _Route:
    """The routing of the outermost ``run_log`` block, undone when it ends."""

    def __init__(self, verbose: bool | None) -> None:
        root = logging.getLogger()
        self.root_level = root.level
        self.threshold = root.getEffectiveLevel()  # what the terminal showed before the block
        self.verbose = self.threshold <= logging.INFO if verbose is None else verbose
        self.saved: dict[str, tuple[list[logging.Handler], bool, int]] = {}
        self.added: logging.Handler | None = None
        if not root.handlers:  # a library caller without logging set up: keep Python's "warnings to stderr"
            self.added = logging.StreamHandler(sys.stderr)
            self.added.setLevel(logging.WARNING)
            root.addHandler(self.added)
        self.console_filter = _ConsoleFilter(logging.INFO if self.verbose else self.threshold, self.verbose)
        self.consoles = list(root.handlers)
        for handler in self.consoles:
            handler.addFilter(self.console_filter)
        root.setLevel(logging.INFO)
        logging.captureWarnings(True)
        adopt_library_loggers()

    def adopt(self, name: str) -> None:
        logger = logging.getLogger(name)
        if name not in self.saved:
            self.saved[name] = (list(logger.handlers), logger.propagate, logger.level)
        own = [h for h in logger.handlers if not isinstance(h, logging.FileHandler)]
        for handler in own:
            logger.removeHandler(handler)
        logger.propagate = True
        if name in ("optuna", "mlflow") and not self.verbose:
            logger.setLevel(logging.INFO)  # their INFO lines belong in the log file

    def undo(self) -> None:
        root = logging.getLogger()
        for name, (handlers, propagate, level) in self.saved.items():
            logger = logging.getLogger(name)
            logger.handlers = handlers
            logger.propagate, logger.level = propagate, level
        for handler in self.consoles:
            handler.removeFilter(self.console_filter)
        if self.added is not None:
            root.removeHandler(self.added)
        root.setLevel(self.root_level)
        logging.captureWarnings(False)


class _ConsoleFilter(logging.Filter):
    """The terminal's share of the records: at or above its threshold; Python warnings only when verbose."""

    def __init__(self, threshold: int, verbose: bool) -> None:
        super().__init__()
        self.threshold, self.verbose = threshold, verbose

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name == WARNINGS_LOGGER and not self.verbose:
            return False
        return record.levelno >= self.threshold


_route: _Route | None = None


def adopt_library_loggers(*names: str) -> None:
    """Route these libraries' loggers (default: all known) through the active ``run_log``; no-op outside one.

    Call it after importing a library that installs its own handlers at import (MLflow does).
    """
    if _route is None:
        return
    for name in names or LIBRARY_LOGGERS:
        _route.adopt(name)


@contextmanager
def run_log(folder: Path | None, verbose: bool | None = None) -> Iterator[Path | None]:
    """Log every record at INFO and above to ``folder/log.txt`` while the block runs (no-op for None).

    ``verbose`` None reads the caller's choice from the root logger's level (INFO = verbose).
    """
    global _route
    if folder is None:
        yield None
        return
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    outermost = _route is None
    if outermost:
        _route = _Route(verbose)
    handler = logging.FileHandler(folder / LOG_FILE, encoding="utf-8")
    handler.setLevel(logging.INFO)
    handler.setFormatter(logging.Formatter(FORMAT))
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield folder / LOG_FILE
    finally:
        root.removeHandler(handler)
        handler.close()
        if outermost and _route is not None:
            _route.undo()
            _route = None
