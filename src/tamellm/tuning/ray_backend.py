"""Trials spread over a Ray cluster (or a local Ray instance) with Ray Tune.

The same define-by-run space drives Ray's ``OptunaSearch`` (TPE, seeded); ASHA stops
bad trials early from the metric that each trial reports after every evaluation.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from tamellm.errors import MissingExtraError
from tamellm.tuning.search_space import SearchSpace
from tamellm.tuning.trial import RunTrial, claim_trial_dir

logger = logging.getLogger(__name__)
EXPERIMENT = "study"
FINAL = "final_value"


def _trainable(params: dict, run_trial: RunTrial, tune_dir: str, metric: str, threads: int) -> None:
    """Runs inside a Ray worker: train one trial and report its metric to Tune."""
    import torch
    from ray import tune

    torch.set_num_threads(threads)
    folder = claim_trial_dir(Path(tune_dir))
    number = int(folder.name)

    def report(step: int, value: float) -> None:
        tune.report({metric: float(value), "step": int(step), "number": number})

    value = run_trial(params, folder, report, None)
    tune.report({metric: value, FINAL: value, "run_dir": str(folder), "number": number})


def run_ray(
    space: SearchSpace,
    run_trial: RunTrial,
    tune_dir: Path,
    metric: str,
    direction: str,
    seed: int = 0,
    budget_s: float | None = None,
    trials: int | None = None,
    address: str | None = None,
    resume: bool = False,
    cpus_per_trial: int = 1,
) -> list[dict]:
    """Run the search on Ray (``address`` or a local 2-CPU instance); return every trial as a row.

    ``run_trial`` (see ``tune.trial.make_run_trial``) is shipped to the workers with cloudpickle.
    """
    try:
        import ray
        from ray import tune
        from ray.tune.schedulers import ASHAScheduler
        from ray.tune.search.optuna import OptunaSearch
    except ImportError as exc:
        raise MissingExtraError(f"the Ray backend needs ray[tune] ({exc})", "pip install 'ray[tune]'") from None
    import optuna

    started = not ray.is_initialized()
    if started:
        if address:
            ray.init(address=address, log_to_driver=False)
        else:
            ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        mode = "max" if direction == "maximize" else "min"
        trainable = tune.with_resources(
            tune.with_parameters(_trainable, run_trial=run_trial, tune_dir=str(tune_dir.resolve()), metric=metric,
                                 threads=cpus_per_trial),
            {"cpu": cpus_per_trial},
        )
        storage = str((tune_dir / "ray").resolve())
        path = f"{storage}/{EXPERIMENT}"
        if resume and tune.Tuner.can_restore(path):
            tuner = tune.Tuner.restore(path, trainable=trainable, resume_errored=True)
        else:
            search = OptunaSearch(space=space.suggest, metric=metric, mode=mode,
                                  sampler=optuna.samplers.TPESampler(seed=seed))
            tuner = tune.Tuner(
                trainable,
                tune_config=tune.TuneConfig(search_alg=search, scheduler=ASHAScheduler(grace_period=1),
                                            metric=metric, mode=mode, num_samples=trials or -1,
                                            time_budget_s=budget_s),
                run_config=tune.RunConfig(storage_path=storage, name=EXPERIMENT, verbose=0),
            )
        grid = tuner.fit()
        return [_row(result, metric) for result in grid]
    finally:
        if started:
            ray.shutdown()


def _row(result: Any, metric: str) -> dict:
    metrics = result.metrics or {}
    config = dict(result.config or {})
    done = FINAL in metrics
    state = "FAIL" if result.error else ("COMPLETE" if done else "PRUNED")
    return {"number": metrics.get("number"), "state": state, "value": metrics.get(FINAL) if done else None,
            "params": config, "seconds": metrics.get("time_total_s"), "run_dir": metrics.get("run_dir"),
            "last_value": metrics.get(metric)}
