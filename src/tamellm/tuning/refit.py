"""Train the winning trial again on train + validation, when its strategy makes that cheap.

A study holds out the validation rows to choose among trials; once the choice is made they are
only data the final model never saw. scikit-learn's ``GridSearchCV(refit=True)`` and AutoGluon's
``refit_full`` fit the chosen configuration on them too. Here only strategies whose class says
``refits`` do it (head-only: the study has cached its encoder's embeddings, so the refit costs
seconds); a fine-tune would cost a whole trial again. The refit trains as many epochs as the trial
had trained when it reached its best validation score, since nothing is left to stop it early, and
the test split stays untouched, so its score is still an honest one.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Any

import pandas as pd

from tamellm.config import TamellmConfig
from tamellm.data.splits import Splits

logger = logging.getLogger(__name__)
REFIT_DIR = "trials/refit"  # beside the trials: `tamellm runs` lists it with them (--trials), not as a run


def refits(params: dict, config: TamellmConfig) -> bool:
    """Whether the strategy of a trial's ``params`` is one AutoTune trains again on train + validation."""
    from tamellm.training.strategies import STRATEGIES

    name = params.get("strategy") or config.train.strategy
    return name in STRATEGIES and bool(getattr(STRATEGIES[name], "refits", False))


def refit_epochs(trial_params: dict, trial_result: dict) -> float:
    """The epochs the trial had trained when its validation score was best (its planned epochs when unknown);
    ``trial_params`` are the trial's resolved params (its params.json)."""
    epochs = float(trial_params["epochs"])
    steps, best = int(trial_result.get("steps") or 0), int(trial_result.get("best_step") or 0)
    return epochs * best / steps if steps and best else epochs


def refit_best(best: dict, config: TamellmConfig, splits: Any, folder: Path, resources: Any = None) -> dict | None:
    """Train ``best`` (a trial row) again on train + validation into ``folder/trials/refit``; its record, or None
    when the strategy does not refit or there are no validation rows to add."""
    if not isinstance(splits, Splits) or splits.validation is None or not len(splits.validation):
        return None
    params = dict(best["params"])
    if not refits(params, config):
        return None
    from tamellm.training.run import train_model

    trial_dir = Path(best["run_dir"])
    trial_result = json.loads((trial_dir / "result.json").read_text(encoding="utf-8"))
    trial_params = json.loads((trial_dir / "params.json").read_text(encoding="utf-8"))
    base = params.pop("base_model", None)
    run_config = config if base is None else config.model_copy(update={"model": base})
    params["epochs"] = refit_epochs(trial_params, trial_result)
    merged = Splits(train=pd.concat([splits.train, splits.validation], ignore_index=True), validation=None,
                    test=splits.test, columns=splits.columns,
                    notes=[*splits.notes, "refit: the validation rows joined the training rows"])
    started = time.monotonic()
    result = train_model(run_config, splits=merged, run_dir=folder / REFIT_DIR, params=params, resources=resources)
    record = {"trial": best["number"], "train_rows": len(merged.train), "epochs": round(params["epochs"], 4),
              "seconds": round(time.monotonic() - started, 2), "test": result.metrics.get("test"),
              "trial_test": (trial_result.get("metrics") or {}).get("test")}
    logger.info("refit trial %s on %d rows (train + validation) in %.1f s", best["number"], len(merged.train),
                record["seconds"])
    return record
