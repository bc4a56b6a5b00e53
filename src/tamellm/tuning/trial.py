"""One trial: a training run with the trial's params in its own sub-folder trials/NNN."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tamellm.config import TamellmConfig

logger = logging.getLogger(__name__)

Report = Callable[[int, float], None]
RunTrial = Callable[[dict, Path, Report, float | None], float]


def trial_dir(tune_dir: Path, number: int) -> Path:
    """The folder of trial ``number``."""
    return tune_dir / "trials" / f"{number:03d}"


def claim_trial_dir(tune_dir: Path) -> Path:
    """The next free trials/NNN folder, created atomically (trials on several Ray workers never share one)."""
    (tune_dir / "trials").mkdir(parents=True, exist_ok=True)
    number = 0
    while True:
        folder = trial_dir(tune_dir, number)
        try:
            folder.mkdir()
            return folder
        except FileExistsError:
            number += 1


def make_run_trial(config: TamellmConfig, splits: Any, metric: str, resources: Any = None) -> RunTrial:
    """A function that trains with one trial's params and returns its validation ``metric``.

    ``resources`` (train.resources.TrainResources) are shared by the trials run in this
    process: the base model is read, and frozen features computed, once per study.
    """

    def run(params: dict, folder: Path, report: Report, budget_s: float | None) -> float:
        from tamellm.training.run import train_model

        train_params = dict(params)
        base = train_params.pop("base_model", None)  # searched among frozen encoders (search_space.head_bases)
        trial_config = config if base is None else config.model_copy(update={"model": base})
        result = train_model(trial_config, splits=splits, run_dir=folder, params=train_params, report=report,
                             budget_s=budget_s, resources=resources)
        value = (result.metrics.get("validation") or {}).get(metric)
        if value is None:
            raise RuntimeError(f"trial in {folder} reported no validation {metric}")
        logger.info("trial %s: %s %.4f with %s", folder.name, metric, value, params)
        return float(value)

    return run
