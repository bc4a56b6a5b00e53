"""``train_model``: data -> model -> the one loop -> a run folder with the best model.

The run folder (read by tuning, ``tamellm runs`` and reports)::

    config.yaml params.json environment.json data.json metrics.jsonl result.json
    checkpoints/last/ checkpoints/best.safetensors model/ tensorboard/ mlruns/
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import torch

from tamellm.config import TamellmConfig, dump_config
from tamellm.errors import ConfigError
from tamellm.logs import run_log
from tamellm.tasks import task_spec
from tamellm.training import distributed
from tamellm.training.augment import augment_splits
from tamellm.training.base_choice import with_default_base
from tamellm.training.callbacks import close_trackers, fan_out, open_trackers, tracking_enabled
from tamellm.training.data import load_task_data
from tamellm.training.loop import evaluate, train_loop
from tamellm.training.params import TrainParams, resolve_params
from tamellm.training.records import data_record, environment_record, write_json
from tamellm.training.resources import TrainResources, fingerprint
from tamellm.training.strategies import STRATEGIES
from tamellm.training.task_adapters import ADAPTERS

logger = logging.getLogger(__name__)


@dataclass
class TrainResult:
    """A finished run: where it is, its final metrics and how it went."""

    run_dir: Path
    model_dir: Path
    metrics: dict  # {"validation": {...}, "test": {...}} from tamellm.metrics
    history: list[dict]
    params: dict  # the run's TrainParams as written to params.json
    seconds: float
    stopped_early: bool
    best_step: int


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def new_run_dir(config: TamellmConfig, strategy: str) -> Path:
    """A fresh folder under config.output named by time, task and strategy."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    base = Path(config.output) / f"{stamp}-{config.task}-{strategy}"
    folder, n = base, 1
    while folder.exists():
        folder, n = base.with_name(f"{base.name}-{n}"), n + 1
    return folder


def _base_model(model: str) -> Path:
    from tamellm.models.gguf_cache import weights_folder
    from tamellm.models.resolve import resolve

    resolved = resolve(model)
    if resolved.kind not in ("gguf", "encoder", "transformers"):
        raise ConfigError(f"model '{model}' is a {resolved.kind} model, which tamellm cannot fine-tune",
                          "start from a transformers folder (safetensors) or a catalog model such as minilm-l6")
    return weights_folder(resolved)  # a GGUF model trains from its safetensors copy, made once and cached


def _length_cap(model: torch.nn.Module) -> int:
    limit = getattr(model.config, "max_position_embeddings", None) or getattr(model.config, "n_positions", 512)
    return min(512, int(limit))


def _data_key(adapter: Any) -> str:
    """What the tokenized features depend on besides the tokenizer and the lengths: the texts and labels."""
    texts = getattr(adapter, "texts", None)
    labels = getattr(adapter, "labels", None)
    if texts is None:  # adapters without per-split text lists are tokenized per run
        return f"run-{id(adapter)}"
    return fingerprint(texts, labels)


def _max_length(adapter: Any, tokenizer: Any, cap: int, wanted: int | None, resources: TrainResources,
                key: tuple) -> int:
    from tamellm.data import choose_max_length

    if wanted:
        return min(int(wanted), cap)
    return resources.memo(("max_length", *key, cap),
                          lambda: choose_max_length(adapter.token_lengths(tokenizer), cap=cap))


@dataclass
class Prepared:
    """A run ready to train: the model after its strategy, the final params and the features."""

    adapter: Any
    tokenizer: Any
    strategy: Any
    model: torch.nn.Module
    params: TrainParams
    features: dict[str, list[dict]]
    base: Path


def _prepare(config: TamellmConfig, params: TrainParams, data: Any, resources: TrainResources,
             budget_end: float | None = None) -> Prepared:
    """Build adapter, tokenizer and model (from the shared resources), apply the strategy, tokenize."""
    adapter = ADAPTERS[task_spec(config.task).adapter](data, params.as_dict())
    base = resources.memo(("base", config.model), lambda: _base_model(config.model))
    tokenizer = resources.tokenizer(base)
    seed_everything(config.seed)
    strategy = STRATEGIES[params.strategy](params.as_dict())
    strategy.resources, strategy.base_key, strategy.budget_end = resources, str(base), budget_end
    model = resources.model(adapter, base, strategy.sentence_pooling)
    adapter.prepare_tokenizer(tokenizer, model)
    cap = _length_cap(model)
    key = (str(base), config.task, _data_key(adapter))
    params = params.replace(max_length=_max_length(adapter, tokenizer, cap, params.max_length, resources, key))
    adapter.tokenizer, adapter.max_length = tokenizer, params.max_length
    seed_everything(config.seed)
    model = strategy.apply(model, adapter)
    # Validation and test at the model's limit, as predict reads them (short few-shot phrases chose 32 tokens).
    features = resources.memo(("features", *key, params.max_length, cap),
                              lambda: adapter.features(tokenizer, params.max_length, cap))
    return Prepared(adapter, tokenizer, strategy, model, params, features, base)


def train_model(config: TamellmConfig, splits: Any = None, run_dir: Path | None = None, params: dict | None = None,
                report: Callable[[int, float], None] | None = None, resume: bool = False,
                budget_s: float | None = None, resources: TrainResources | None = None) -> TrainResult:
    """Fine-tune ``config.model`` on the data and return the run.

    ``splits`` None loads ``config.data``; ``params`` overrides config.train by name
    (flat peft keys included); ``report(step, value)`` gets the validation primary
    metric after each evaluation (exceptions from it, e.g. optuna.TrialPruned,
    propagate); ``resume`` continues from run_dir/checkpoints/last; ``budget_s`` stops
    gracefully when the wall-clock budget is spent; ``resources`` are what the runs of
    one study share (see resources.py; default: this run's own). Under torchrun
    (WORLD_SIZE > 1) the same call trains with DDP and only rank 0 writes.
    """
    from tamellm.models.loaders import quiet_transformers

    own_run = getattr(ADAPTERS[task_spec(config.task).adapter], "train_run", None)
    if own_run is not None:  # inputs without a tokenizer (images) prepare their run around the same loop
        return own_run(config, splits, run_dir, params, report, resume, budget_s, resources)
    started = time.monotonic()
    quiet_transformers()
    dist = distributed.setup()
    resolved = resolve_params(config, params)
    if resume and run_dir is None:
        raise ConfigError("resume needs the run folder", "pass run_dir (tamellm train --resume RUN_DIR)")
    run_dir = Path(run_dir) if run_dir is not None else new_run_dir(config, resolved.strategy)
    resources = resources if resources is not None else TrainResources(shared=False)
    with run_log(run_dir if dist.main else None):
        return _train(config, splits, run_dir, resolved, report, resume, budget_s, resources, dist, started)


def _train(config: TamellmConfig, splits: Any, run_dir: Path, params: TrainParams, report: Any, resume: bool,
           budget_s: float | None, resources: TrainResources, dist: Any, started: float) -> TrainResult:
    data, files = load_task_data(config, splits)
    config = with_default_base(config, data)  # texts in another language start from an encoder that covers it
    data = augment_splits(data, params, config.task)  # nothing unless params.augment names a method
    ready = _prepare(config, params, data, resources, None if budget_s is None else started + budget_s)
    adapter, tokenizer, strategy, model, params, features = (ready.adapter, ready.tokenizer, ready.strategy,
                                                             ready.model, ready.params, ready.features)
    if dist.main:
        run_dir.mkdir(parents=True, exist_ok=True)
        (run_dir / "config.yaml").write_text(dump_config(config), encoding="utf-8")
        write_json(run_dir / "params.json", params.as_dict())
        write_json(run_dir / "environment.json", environment_record(config.seed))
        write_json(run_dir / "data.json", data_record(files, data, adapter))
    train_module = dist.wrap(model)
    history = _resumed_history(run_dir) if resume else []
    trackers = (open_trackers(run_dir, history, enabled=tracking_enabled(), store=resources.mlflow)
                if dist.main else [])
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    try:
        fan_out(trackers, "start", params.as_dict())
        # The budget covers the whole run: what set-up spent (model, features, a head's start) is gone.
        left = None if budget_s is None else max(1.0, started + budget_s - time.monotonic())
        outcome = train_loop(train_module, adapter, features, params, run_dir, pad_id, dist, trackers,
                             resume=resume, report=report, budget_s=left)
    except BaseException:
        close_trackers(trackers, None)
        raise
    metrics: dict[str, dict] = {}
    model_dir = run_dir / "model"
    if dist.main:
        for split in ("validation", "test"):
            if features.get(split):
                metrics[split] = evaluate(model, adapter, features[split], params.eval_batch_size, pad_id)
        seconds = time.monotonic() - started
        manifest = {**adapter.manifest(), "kind": strategy.kind, "base_model": config.model,
                    "base_model_path": str(ready.base), "strategy": params.strategy, "max_length": params.max_length}
        from tamellm.training.artifact import save_model_folder

        save_model_folder(strategy.export(model), tokenizer, model_dir, manifest, metrics, params.as_dict())
        result = {"metrics": metrics, "seconds": seconds, "stopped_early": outcome.stopped_early,
                  "out_of_time": outcome.out_of_time, "best_step": outcome.best_step, "steps": outcome.steps,
                  "primary_metric": adapter.primary[0], "task": config.task,
                  "finished": datetime.now(UTC).isoformat(timespec="seconds")}
        if strategy.head_start is not None:
            result["head_start"] = strategy.head_start
        write_json(run_dir / "result.json", result)
        close_trackers(trackers, metrics)
    dist.barrier()
    return TrainResult(run_dir, model_dir, metrics, outcome.history, params.as_dict(), time.monotonic() - started,
                       outcome.stopped_early, outcome.best_step)


def _resumed_history(run_dir: Path) -> list[dict]:
    from tamellm.training.checkpoint import find_checkpoint

    found = find_checkpoint(run_dir / "checkpoints" / "last")
    if found is None:
        return []
    return json.loads((found / "state.json").read_text(encoding="utf-8")).get("history", [])
