"""Loading a task's data from config.data: the task's training adapter reads it (tables, CoNLL/JSONL, pairs)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from tamellm.config import TamellmConfig
from tamellm.errors import ConfigError
from tamellm.tasks import task_spec
from tamellm.training.task_adapters import ADAPTERS

logger = logging.getLogger(__name__)


def data_files(config: TamellmConfig) -> list[Path]:
    """The data files named in the config."""
    return [Path(p) for p in (config.data.train, config.data.validation, config.data.test) if p is not None]


def load_task_data(config: TamellmConfig, splits: Any = None) -> tuple[Any, list[Path]]:
    """(splits, files): the given splits as they are, or the config's files read, validated and split."""
    if splits is not None:
        return splits, []
    if config.data.train is None:
        raise ConfigError("no training data given", "set data.train in the config, or pass --data FILE")
    adapter = ADAPTERS[task_spec(config.task).adapter]
    return adapter.load_splits(config), data_files(config)
