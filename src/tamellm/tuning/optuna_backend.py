"""Trials on this machine with Optuna: seeded TPE, median pruning per strategy, a resumable SQLite study."""

from __future__ import annotations

import logging
import shutil
import statistics
import time
from pathlib import Path
from typing import Any

from tamellm.errors import InputError
from tamellm.logs import adopt_library_loggers
from tamellm.progress import TrialBoard
from tamellm.tuning.search_space import SearchSpace
from tamellm.tuning.trial import RunTrial, trial_dir

logger = logging.getLogger(__name__)
STUDY_NAME = "tamellm"
MIN_TRIAL_S = 5.0  # do not start a trial with less time than this left in the budget


class StrategyMedianPruner:
    """Median pruning among the finished trials of the same strategy (and base model, when searched).

    Optuna's MedianPruner compares every trial at a step: a head that starts from a logistic
    regression is ahead of any fine-tuning at the first evaluation, so no other strategy would
    ever finish. Here each strategy has its own median, and its first trial always runs to the end.
    Written by hand because Optuna has no grouped pruner; it is Optuna's BasePruner interface.
    """

    def prune(self, study: Any, trial: Any) -> bool:
        """True when ``trial``'s best value so far is worse than its strategy's median at this step."""
        import optuna

        step = trial.last_step
        if step is None:
            return False
        group = _group(trial.params)
        peers = [t.intermediate_values[step]
                 for t in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
                 if _group(t.params) == group and step in t.intermediate_values]
        if not peers:
            return False
        values = list(trial.intermediate_values.values())
        median = statistics.median(peers)
        if study.direction == optuna.study.StudyDirection.MAXIMIZE:
            return max(values) < median
        return min(values) > median


def _group(params: dict) -> tuple:
    """Trials compared by the pruner: same strategy on the same base model."""
    return params.get("strategy"), params.get("base_model")


def storage_url(tune_dir: Path, storage: str | None = None) -> str:
    """The study's storage: the given URL, else ``sqlite:///<tune_dir>/study.db``."""
    return storage or f"sqlite:///{(tune_dir / 'study.db').resolve()}"


def _recover_crashed(study: Any) -> None:
    """Trials left RUNNING by a killed process are marked failed and their params queued again."""
    import optuna

    for trial in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,)):
        logger.warning("trial %d was interrupted; it will run again", trial.number)
        study._storage.set_trial_state_values(trial._trial_id, optuna.trial.TrialState.FAIL)
        if trial.params:
            study.enqueue_trial(trial.params)


def run_optuna(
    space: SearchSpace,
    run_trial: RunTrial,
    tune_dir: Path,
    direction: str,
    seed: int = 0,
    budget_s: float | None = None,
    trials: int | None = None,
    storage: str | None = None,
    resume: bool = False,
    board: TrialBoard | None = None,
    first: list[dict] | None = None,
) -> list[dict]:
    """Run the search; return every trial of the study (earlier runs of a resumed study included).

    ``board`` (progress.trial_board) is told when each trial starts and ends; ``first``
    are params a new study tries before its sampler explores (see autotune.warm_start).
    """
    import optuna

    adopt_library_loggers("optuna")  # "Trial N finished..." belongs in the log file, not the terminal

    url = storage_url(tune_dir, storage)
    exists = (tune_dir / "study.db").is_file() if storage is None else resume
    if exists and not resume:
        raise InputError(f"{tune_dir} already holds a study", "pass --resume to continue it, or another --output")
    sampler = optuna.samplers.TPESampler(seed=seed, n_startup_trials=min(5, trials or 5))
    pruner = StrategyMedianPruner()
    study = optuna.create_study(study_name=STUDY_NAME, storage=url, direction=direction, sampler=sampler,
                                pruner=pruner, load_if_exists=True)
    _recover_crashed(study)
    if not study.get_trials(deepcopy=False):
        for params in first or []:
            study.enqueue_trial(params)
    finished = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)
    remaining = None if trials is None else max(0, trials - len(study.get_trials(states=finished)))
    deadline = None if budget_s is None else time.monotonic() + budget_s

    took: list[float] = []  # seconds of the trials run by this call

    def objective(trial: optuna.Trial) -> float:
        left = None if deadline is None else deadline - time.monotonic()
        # A trial's set-up runs before its loop can watch the budget: one that would overrun it by more
        # than it could train is not started. The first trial also paid the study's one-time costs (base
        # model, frozen embeddings), so the later ones tell how long a trial takes.
        if left is not None and left < max(MIN_TRIAL_S, min(took[1:], default=0.0)):
            trial.study.stop()
            trial.set_user_attr("skipped", True)
            raise optuna.TrialPruned("no time left in the budget")
        params = space.suggest(trial)
        trial.set_user_attr("params", params)
        if board is not None:
            board.start(trial.number, params)

        def report(step: int, value: float) -> None:
            trial.report(float(value), int(step))
            if trial.should_prune():
                raise optuna.TrialPruned(f"pruned at step {step} ({value:.4f})")

        folder = trial_dir(tune_dir, trial.number)
        trial.set_user_attr("run_dir", str(folder))
        began = time.monotonic()
        try:
            return run_trial(params, folder, report, left)
        finally:
            took.append(time.monotonic() - began)

    if remaining == 0:
        logger.info("the study already has %d finished trials", trials)
    else:
        callbacks = [_keep_best_model] + ([_tell(board)] if board is not None else [])
        study.optimize(objective, n_trials=remaining, timeout=budget_s, catch=(RuntimeError, ValueError),
                       gc_after_trial=True, callbacks=callbacks)
    return [_row(t) for t in study.get_trials(deepcopy=False)]


def _keep_best_model(study: Any, trial: Any) -> None:
    """Delete the model folder of every finished trial but the best so far (its metrics and params stay).

    Each trial writes a whole model (87 MB for MiniLM, 470 MB for E5): a 3-minute study of ~70
    head-only trials left 3.2 GB behind. Only the best one is copied out at the end.
    """
    import optuna

    try:
        best = study.best_trial.number
    except ValueError:  # no trial completed yet
        return
    for other in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,)):
        folder = other.user_attrs.get("run_dir")
        if other.number != best and folder and (Path(folder) / "model").is_dir():
            shutil.rmtree(Path(folder) / "model", ignore_errors=True)


def _tell(board: TrialBoard) -> Any:
    """An Optuna callback that shows each ended trial on the board (budget-skipped ones are left out)."""

    def callback(study: Any, trial: Any) -> None:
        row = _row(trial)
        if row["state"] != "SKIPPED":
            board.finish(row["number"], row["state"], row["value"], row["params"], row["seconds"])

    return callback


def _row(trial: Any) -> dict:
    seconds = trial.duration.total_seconds() if trial.duration is not None else None
    state = "SKIPPED" if trial.user_attrs.get("skipped") else trial.state.name  # budget spent before it ran
    return {"number": trial.number, "state": state, "value": trial.value,
            "params": trial.user_attrs.get("params", trial.params), "seconds": seconds,
            "run_dir": trial.user_attrs.get("run_dir")}
