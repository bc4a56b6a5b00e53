"""Loading a task's data from config.data: tables for classification and instruction, CoNLL/JSONL for NER."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from tamellm.config import TamellmConfig
from tamellm.errors import ConfigError

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
    files = data_files(config)
    data = config.data
    if config.task == "ner":
        from tamellm.train.task_adapters.token_classification import load_ner_splits

        return load_ner_splits(config), files
    from tamellm.data import load_splits, validate

    if config.task == "generate":
        return _instruction_splits(config), files

    loaded = load_splits(data.train, data.validation, data.test, text_column=data.text_column,
                         label_column=data.label_column, val_size=data.val_size, test_size=data.test_size,
                         seed=config.seed)
    for note in loaded.notes:
        logger.info("%s", note)
    report = validate(loaded, loaded.columns)
    for issue in report.warnings:
        logger.warning("%s", issue)
    report.raise_for_errors()
    loaded.report = report.to_dict()
    return loaded, files


def _instruction_splits(config: TamellmConfig) -> Any:
    """Prompt/response tables: read, checked for the two columns, split at random where a part is missing."""
    from tamellm.data import Splits, read_table, split
    from tamellm.train.task_adapters.instruction import find_pair

    data = config.data
    frames = {"train": read_table(data.train)}
    for name in ("validation", "test"):
        if getattr(data, name) is not None:
            frames[name] = read_table(getattr(data, name))
    for frame in frames.values():
        find_pair(list(frame.columns))
    want_val = data.val_size if "validation" not in frames else 0.0
    want_test = data.test_size if "test" not in frames else 0.0
    notes: list[str] = []
    if want_val or want_test:
        cut = split(frames["train"], None, val_size=want_val, test_size=want_test, seed=config.seed)
        frames["train"] = cut.train
        frames.setdefault("validation", cut.validation)
        frames.setdefault("test", cut.test)
        notes = cut.notes
    return Splits(frames["train"], frames.get("validation"), frames.get("test"), notes=notes)
