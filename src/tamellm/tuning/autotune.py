"""AutoTune: search the strategy and its hyperparameters within a budget, keep the best model.

The tune folder holds study.db (Optuna) or ray/ (Ray Tune), one sub-run per trial under
trials/NNN, and at the end the best trial's model copied to model/, with hpo.json
(every trial), params.json, result.json and report.html, so that the folder reads
like a run folder (``tamellm runs``, ``tamellm.load(tune_dir / "model")``).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tamellm.config import TamellmConfig, parse_budget
from tamellm.errors import ConfigError, InputError, MissingExtraError, TamellmError
from tamellm.logs import run_log
from tamellm.progress import trial_board
from tamellm.run_folders import read_json
from tamellm.tasks import task_spec
from tamellm.training.base_choice import with_default_base
from tamellm.training.callbacks import tracking_enabled
from tamellm.training.resources import study_resources
from tamellm.tuning.refit import REFIT_DIR, refit_best
from tamellm.tuning.search_space import AUGMENT_STRATEGIES, SearchSpace, build_search_space
from tamellm.tuning.trial import make_run_trial

logger = logging.getLogger(__name__)
BACKENDS = ("optuna", "ray")
# What a new study tries first, in this order, before its sampler explores: head-only (the frozen encoder
# embeds each text once, so it ends in about the time one pass of the encoder takes and sets a safe
# baseline), then full fine-tuning with the learning rate small encoders usually like, its schedule fitted
# to what is left of the budget by the loop. With room for only a trial or two, as a few minutes on a
# laptop CPU allow, random first picks (e.g. a 4-epoch LoRA cut off at a high learning rate) leave the
# search with a weak model.
WARM_START: dict[str, dict[str, Any]] = {
    "head-only": {"learning_rate": 3e-3, "epochs": 3, "batch_size": 16, "warmup_ratio": 0.1, "weight_decay": 0.01,
                  "scheduler": "linear", "class_weights": "none"},
    "full": {"learning_rate": 1e-4, "epochs": 3, "batch_size": 16, "warmup_ratio": 0.1, "weight_decay": 0.01,
             "scheduler": "linear", "class_weights": "none"},
}
COPIED = ("metrics.jsonl", "data.json", "environment.json", "config.yaml")


@dataclass
class TuneResult:
    """The outcome of a search: the best params and value, the best trial's run, every trial."""

    best_params: dict
    best_value: float
    best_run: Any  # tamellm.training.run.TrainResult of the best trial (test metrics: its refit's, if any)
    trials: list[dict]
    tune_dir: Path
    metric: str
    direction: str
    backend: str
    seconds: float
    notes: list[str] = field(default_factory=list)
    refit: dict | None = None  # the best trial trained again on train + validation (refit.refit_best)

    @property
    def model_dir(self) -> Path:
        """The best model, copied into the tune folder."""
        return self.tune_dir / "model"

    def to_dict(self) -> dict:
        """A JSON-ready summary."""
        metrics = getattr(self.best_run, "metrics", None) or {}
        return {"tune_dir": str(self.tune_dir), "model": str(self.model_dir), "backend": self.backend,
                "metric": self.metric, "direction": self.direction, "best_value": self.best_value,
                "best_params": self.best_params, "metrics": metrics, "seconds": self.seconds,
                "trials": self.trials, "report": str(self.tune_dir / "report.html"), "notes": self.notes,
                "refit": self.refit}


def primary_metric(config: TamellmConfig, splits: Any) -> tuple[str, str]:
    """(metric name, "maximize" | "minimize") that the search optimises."""
    multi = bool(getattr(getattr(splits, "columns", None), "multi_label", False))
    name, way = task_spec(config.task).metric(multi)
    return name, "maximize" if way == "max" else "minimize"


def _load_splits(config: TamellmConfig) -> Any:
    """Tables are read once here (classification); NER and generation data are read by the trainer."""
    if config.task != "classify":
        return None
    if config.data.train is None:
        raise ConfigError("no training data: 'data.train' is not set", "pass --data FILE or set data.train")
    from tamellm.data import load_splits

    data = config.data
    return load_splits(data.train, data.validation, data.test, text_column=data.text_column,
                       label_column=data.label_column, val_size=data.val_size, test_size=data.test_size,
                       seed=config.seed)


def _require_trainer() -> None:
    try:
        import tamellm.training.run  # noqa: F401
    except ImportError as exc:
        raise MissingExtraError(f"training is not available in this installation ({exc})",
                                "reinstall tamellm: the tamellm.training package is missing") from None


def default_tune_dir(config: TamellmConfig) -> Path:
    """``<output>/tune-YYYYmmdd-HHMMSS``."""
    return Path(config.output) / f"tune-{datetime.now(UTC):%Y%m%d-%H%M%S}"


def autotune(
    config: TamellmConfig,
    splits: Any = None,
    budget_s: float | None = None,
    trials: int | None = None,
    backend: str = "optuna",
    ray_address: str | None = None,
    tune_dir: str | os.PathLike | None = None,
    resume: bool = False,
    search_augment: bool = False,
) -> TuneResult:
    """Search strategy and hyperparameters for ``config`` within ``budget_s`` seconds and/or ``trials``.

    Without either, the config's ``tune.trials`` / ``tune.budget`` apply. ``backend``
    "ray" (or a ``ray_address``) runs trials with Ray Tune. ``resume=True`` continues
    the study in ``tune_dir``. The best trial's model ends up in ``<tune_dir>/model``.
    ``search_augment`` also searches training-data augmentation (search_space.AUGMENT_STRATEGIES).
    """
    start = time.perf_counter()
    _require_trainer()
    backend = "ray" if ray_address or config.tune.ray_address else (backend or config.tune.backend)
    if backend not in BACKENDS:
        raise ConfigError(f"unknown tune backend '{backend}'", f"accepted: {', '.join(BACKENDS)}")
    if budget_s is None and trials is None:
        trials = config.tune.trials
        budget_s = parse_budget(config.tune.budget)
    if resume and tune_dir is None:
        raise InputError("--resume needs the tune folder to continue", "pass --output <tune folder>")
    folder = Path(tune_dir) if tune_dir else default_tune_dir(config)
    folder.mkdir(parents=True, exist_ok=True)
    with run_log(folder):
        splits = splits if splits is not None else _load_splits(config)
        metric, direction = primary_metric(config, splits)
        space = build_search_space(config, splits, search_augment=search_augment, budget_s=budget_s)
        config = with_default_base(config, splits)  # once per study: texts in another language, another base
        (folder / "search_space.json").write_text(json.dumps(space.to_dict(), indent=2), encoding="utf-8")
        logger.info("tuning %s in %s (%s, budget %s s, trials %s)", metric, folder, backend, budget_s, trials)
        # Trials run in this process share what the study computes once (model, frozen features, tracking).
        resources = None if backend == "ray" else study_resources(folder, tracking=tracking_enabled())
        rows = _search(backend, space, config, splits, folder, metric, direction, budget_s, trials,
                       ray_address or config.tune.ray_address, resume, resources)
        refit = refit_best(_best(rows, direction), config, splits, folder, resources) if config.tune.refit else None
        return finish(folder, rows, metric, direction, backend, space, time.perf_counter() - start,
                      _examples(splits), refit)


def _examples(splits: Any, n: int = 3) -> list[str] | None:
    """A few validation texts for the report's Explanations section."""
    part = getattr(splits, "validation", None)
    if part is None or splits.columns is None:
        return None
    return part[splits.columns.text].dropna().astype(str).head(n).tolist() or None


def _search(backend: str, space: SearchSpace, config: TamellmConfig, splits: Any, folder: Path, metric: str,
            direction: str, budget_s: float | None, trials: int | None, address: str | None,
            resume: bool, resources: Any = None) -> list[dict]:
    if backend == "ray":
        from tamellm.tuning.ray_backend import run_ray

        # Trials run in Ray workers (other processes): each builds what it needs itself.
        return run_ray(space, make_run_trial(config, splits, metric), folder, metric, direction, config.seed,
                       budget_s, trials, address, resume)
    from tamellm.tuning.optuna_backend import run_optuna

    run_trial = make_run_trial(config, splits, metric, resources)
    with trial_board(metric, budget_s, trials) as board:
        return run_optuna(space, run_trial, folder, direction, config.seed, budget_s, trials, config.tune.storage,
                          resume, board=board, first=warm_start(space))


def warm_start(space: SearchSpace) -> list[dict]:
    """The Optuna params of the first trials: ``WARM_START`` for each searched strategy (head-only once per
    frozen encoder compared), without what the space keeps fixed or does not search."""
    first = []
    for strategy in WARM_START:
        if strategy not in space.strategies:
            continue
        params = {k: v for k, v in WARM_START[strategy].items() if k not in space.fixed}
        if not space.search_class_weights:
            params.pop("class_weights", None)
        if space.search_augment and strategy in AUGMENT_STRATEGIES:
            params["augment"] = "none"  # a plain first trial: augmentation wins only if a trial measures it helps
        if len(space.strategies) > 1:
            params["strategy"] = strategy
        if strategy == "head-only" and len(space.head_bases) > 1:
            first.extend({**params, "base_model": base} for base in space.head_bases)
            continue
        first.append(params)
    return first


def _head_cv_accuracy(row: dict) -> float:
    """The cross-validated accuracy of a frozen-encoder trial's logistic-regression head (-inf for others)."""
    result = read_json(Path(row["run_dir"]) / "result.json") or {}
    value = (result.get("head_start") or {}).get("cv_accuracy")
    return float("-inf") if value is None else float(value)


def _best(rows: list[dict], direction: str) -> dict:
    """The best finished trial by its validation value. Ties (frequent on a few hundred validation rows)
    go to the frozen-encoder trial whose head cross-validated best on its many more training rows."""
    done = [r for r in rows if r["state"] == "COMPLETE" and r["value"] is not None and r.get("run_dir")]
    if not done:
        states = ", ".join(f"{r['number']}: {r['state']}" for r in rows) or "none ran"
        raise TamellmError(f"no trial finished ({states})",
                           "raise the budget (--budget) or the number of trials (--trials); --debug shows why")
    sign = 1.0 if direction == "maximize" else -1.0
    return max(done, key=lambda r: (sign * r["value"], _head_cv_accuracy(r)))


def _replace_dir(source: Path, target: Path) -> None:
    """Copy ``source`` to ``target`` through a temporary folder, then swap it in."""
    tmp = target.with_name(f".{target.name}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    shutil.copytree(source, tmp)
    old = target.with_name(f".{target.name}.old")
    if target.exists():
        shutil.rmtree(old, ignore_errors=True)
        os.replace(target, old)
    os.replace(tmp, target)
    shutil.rmtree(old, ignore_errors=True)


def _write_json(path: Path, data: Any) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False, default=str), encoding="utf-8")
    os.replace(tmp, path)


def finish(folder: Path, rows: list[dict], metric: str, direction: str, backend: str, space: SearchSpace,
           seconds: float, examples: list[str] | None = None, refit: dict | None = None) -> TuneResult:
    """Copy the best trial's model (or its ``refit`` on train + validation, refit.refit_best) and files into
    the tune folder; write hpo.json, result.json, report.html."""
    best = _best(rows, direction)
    best_dir = Path(best["run_dir"])
    model_dir = folder / REFIT_DIR if refit else best_dir
    if not (model_dir / "model").is_dir():
        raise TamellmError(f"the best trial's model is missing from {model_dir}", "run the tune again with --resume")
    _replace_dir(model_dir / "model", folder / "model")
    if refit:  # one copy of the final model: the tune folder's
        shutil.rmtree(model_dir / "model", ignore_errors=True)
    for name in COPIED:
        if (best_dir / name).is_file():
            shutil.copy2(best_dir / name, folder / name)
    best_result = read_json(best_dir / "result.json") or {}
    if refit:  # validation: what chose the trial; test: the refit model's (the test rows were never trained on)
        best_result["metrics"] = {**(best_result.get("metrics") or {}), "test": refit["test"]}
        best_result["refit"] = refit
    hpo = {"backend": backend, "metric": metric, "direction": direction, "best_trial": best["number"],
           "best_value": best["value"], "best_params": best["params"], "best_run": str(best_dir),
           "search_space": space.to_dict(), "trials": sorted(rows, key=lambda r: (r["number"] is None, r["number"]))}
    _write_json(folder / "hpo.json", hpo)
    _write_json(folder / "params.json", best["params"])
    done = sum(r["state"] == "COMPLETE" for r in rows)
    pruned = sum(r["state"] == "PRUNED" for r in rows)
    _write_json(folder / "result.json", {**best_result, "seconds": seconds, "trials": len(rows),
                                         "trials_complete": done, "trials_pruned": pruned, "tune": True,
                                         "best_trial": best["number"], "primary_metric": metric,
                                         "finished": datetime.now(UTC).isoformat(timespec="seconds")})
    from tamellm.reports import write_report

    write_report(folder, explain_texts=examples)
    logger.info("best trial %s: %s %.4f", best["number"], metric, best["value"])
    best_run = load_train_result(best_dir)
    best_run.metrics = best_result.get("metrics") or best_run.metrics
    return TuneResult(best["params"], float(best["value"]), best_run, rows, folder, metric, direction, backend,
                      seconds, space.notes, refit)


def load_train_result(run_dir: Path) -> Any:
    """The TrainResult of a finished run folder, rebuilt from its files (trials may run in other processes)."""
    from tamellm.reports.html import read_history
    from tamellm.training.run import TrainResult

    result = read_json(run_dir / "result.json") or {}
    metrics = result.get("metrics") or {k: result[k] for k in ("validation", "test") if k in result}
    return TrainResult(run_dir=run_dir, model_dir=run_dir / "model", metrics=metrics,
                       history=read_history(run_dir / "metrics.jsonl"), params=read_json(run_dir / "params.json") or {},
                       seconds=float(result.get("seconds") or 0.0), stopped_early=bool(result.get("stopped_early")),
                       best_step=int(result.get("best_step") or 0))
