"""The one training loop for every task and strategy.

AdamW with warmup and linear / cosine decay, weight decay, gradient accumulation and
clipping, evaluation every ``eval_steps`` optimizer steps, early stopping on the
validation metric, a wall-clock budget, a checkpoint after each evaluation and exact
resumption from it. Hand-written rather than transformers' Trainer because the
Trainer cannot resume to identical metrics after SIGKILL mid-epoch with length-grouped
batches, nor report to an Optuna pruner between evaluations without a callback maze.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file

from tamellm.progress import progress
from tamellm.training.adversarial import make_adversary
from tamellm.training.callbacks import Tracker, fan_out
from tamellm.training.checkpoint import (
    find_checkpoint,
    load_checkpoint,
    load_trainable,
    save_checkpoint,
    save_tensors_atomic,
    trainable_state,
)
from tamellm.training.collate import collate
from tamellm.training.distributed import Dist, unwrap
from tamellm.training.params import TrainParams
from tamellm.training.sampler import epoch_batches, eval_batches

logger = logging.getLogger(__name__)
NO_DECAY = ("bias", "LayerNorm", "layer_norm", "layernorm", "ln_", "norm.weight")
EVALUATIONS_PER_RUN = 10


@dataclass
class LoopOutcome:
    """What the loop did: evaluations, the best one, why it stopped."""

    history: list[dict] = field(default_factory=list)
    best_step: int = 0
    best_value: float | None = None
    stopped_early: bool = False
    out_of_time: bool = False
    steps: int = 0


def _optimizer(model: torch.nn.Module, params: TrainParams) -> torch.optim.Optimizer:
    decay, no_decay = [], []
    for name, param in model.named_parameters():
        if param.requires_grad:
            (no_decay if any(k in name for k in NO_DECAY) else decay).append(param)
    groups = [{"params": decay, "weight_decay": params.weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    return torch.optim.AdamW([g for g in groups if g["params"]], lr=params.learning_rate)


def _scalars(metrics: dict) -> dict:
    return {k: v for k, v in metrics.items() if isinstance(v, int | float) and not isinstance(v, bool)}


def evaluate(model: torch.nn.Module, adapter: Any, examples: list[dict], batch_size: int, pad_id: int) -> dict:
    """The adapter's metrics over ``examples``, in eval mode (train mode is restored)."""
    inner = unwrap(model)
    was_training = inner.training
    inner.eval()
    lengths = [len(e["input_ids"]) for e in examples]
    batches = (collate([examples[i] for i in b], pad_id, adapter.sequence_labels)
               for b in eval_batches(lengths, batch_size))
    try:
        return adapter.evaluate(inner, batches)
    finally:
        inner.train(was_training)


def train_loop(model: torch.nn.Module, adapter: Any, features: dict[str, list[dict]], params: TrainParams,
               run_dir: Path, pad_id: int, dist: Dist, trackers: list[Tracker], resume: bool = False,
               report: Callable[[int, float], None] | None = None, budget_s: float | None = None) -> LoopOutcome:
    """Train ``model`` in place; at the end it holds the best evaluated weights.

    With ``budget_s``, the first evaluation measures the pace; when the planned steps do
    not fit in the budget, the learning-rate schedule is shortened to end (decayed) when
    the budget does, rather than being cut off at a high learning rate.
    """
    train = features["train"]
    validation = features.get("validation") or []
    lengths = [len(e["input_ids"]) for e in train]
    per_epoch = len(epoch_batches(lengths, params.batch_size, params.seed, 0, dist.rank, dist.world_size))
    steps_per_epoch = math.ceil(per_epoch / params.gradient_accumulation)
    total = max(1, math.ceil(steps_per_epoch * params.epochs))
    eval_steps = params.eval_steps or max(1, total // EVALUATIONS_PER_RUN)
    optimizer = _optimizer(model, params)
    adversary = make_adversary(model, params)
    name, direction = adapter.primary
    state = {"step": 0, "epoch": 0, "batch": 0, "best_value": None, "best_step": 0, "bad_evals": 0,
             "history": [], "elapsed": 0.0, "loss_sum": 0.0, "loss_count": 0, "horizon": total, "paced": False}
    scheduler = _schedule(optimizer, params, int(params.warmup_ratio * total), state)
    checkpoints = run_dir / "checkpoints"
    found = find_checkpoint(checkpoints / "last") if resume else None
    if found is not None:
        state.update(load_checkpoint(found, model, optimizer, scheduler))
        logger.info("resuming from %s at step %d of %d", found, state["step"], total)
    elif resume:
        logger.warning("no checkpoint in %s: starting from the beginning", checkpoints)
    outcome = LoopOutcome(history=state["history"])
    started = time.monotonic() - state["elapsed"]
    model.train()
    stop = False
    with progress("training", total=state["horizon"], completed=state["step"],
                  enabled=None if dist.main else False) as bar:
        while state["step"] < state["horizon"] and not stop:
            batches = epoch_batches(lengths, params.batch_size, params.seed, state["epoch"], dist.rank,
                                    dist.world_size)
            for index in range(state["batch"], len(batches)):
                batch = collate([train[i] for i in batches[index]], pad_id, adapter.sequence_labels)
                if adversary is None:
                    loss = adapter.loss(model, batch)
                    (loss / params.gradient_accumulation).backward()
                else:  # clean and adversarial passes, gradients summed (training/adversarial.py)
                    loss = adversary.step(lambda b=batch: adapter.loss(model, b), params.gradient_accumulation)
                state["loss_sum"] += float(loss.detach())
                state["loss_count"] += 1
                state["batch"] = index + 1
                if state["batch"] % params.gradient_accumulation and state["batch"] != len(batches):
                    continue
                torch.nn.utils.clip_grad_norm_([p for p in model.parameters() if p.requires_grad],
                                               params.max_grad_norm)
                optimizer.step()
                scheduler.step()
                optimizer.zero_grad(set_to_none=True)
                state["step"] += 1
                train_loss = state["loss_sum"] / max(1, state["loss_count"])
                bar.update(1, loss=train_loss)
                out_of_time = dist.any(budget_s is not None and time.monotonic() - started >= budget_s)
                if state["step"] % eval_steps == 0 or state["step"] >= state["horizon"] or out_of_time:
                    stop = _evaluate_and_save(model, adapter, validation, params, state, outcome, run_dir,
                                              pad_id, dist, trackers, optimizer, scheduler, started, report,
                                              (name, direction), per_epoch)
                    if budget_s is not None and dist.world_size == 1 and not state["paced"]:
                        _fit_to_budget(state, time.monotonic() - started, budget_s)
                        bar.set_total(state["horizon"])
                    if state["best_value"] is not None:
                        bar.update(0, loss=train_loss, **{f"best_{name}": state["best_value"]})
                    if out_of_time:
                        outcome.out_of_time = stop = True
                        logger.info("time budget of %.0f s spent at step %d: stopping", budget_s, state["step"])
                if stop or state["step"] >= state["horizon"]:
                    break
            else:
                state["epoch"] += 1
                state["batch"] = 0
    outcome.best_step, outcome.best_value, outcome.steps = state["best_step"], state["best_value"], state["step"]
    best = checkpoints / "best.safetensors"
    if dist.main and best.is_file():
        load_trainable(unwrap(model), load_file(str(best)))
    return outcome


def _schedule(optimizer: torch.optim.Optimizer, params: TrainParams, warmup: int, state: dict,
              ) -> torch.optim.lr_scheduler.LambdaLR:
    """Linear warmup, then linear or cosine decay to zero at ``state["horizon"]`` (or constant, no warmup).

    transformers' schedules, written out because their horizon is fixed when they are made
    and a budget may shorten it while training (``_fit_to_budget``).
    """

    def factor(step: int) -> float:
        if params.scheduler == "constant":
            return 1.0
        if step < warmup:
            return step / max(1, warmup)
        progress_ = min(1.0, (step - warmup) / max(1, state["horizon"] - warmup))
        return 0.5 * (1.0 + math.cos(math.pi * progress_)) if params.scheduler == "cosine" else 1.0 - progress_

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


def _fit_to_budget(state: dict, elapsed: float, budget_s: float) -> None:
    """After the first evaluation: end the schedule at the step the budget reaches at this pace (evaluations
    included), a little early so that the last evaluation and checkpoint fit too."""
    state["paced"] = True
    per_step = elapsed / max(1, state["step"])
    fits = int(0.95 * budget_s / per_step)
    if fits < state["horizon"]:
        logger.info("the budget fits about %d of %d steps (%.2f s each): the schedule ends there", fits,
                    state["horizon"], per_step)
        state["horizon"] = max(state["step"] + 1, fits)


def _evaluate_and_save(model, adapter, validation, params, state, outcome, run_dir, pad_id, dist, trackers,
                       optimizer, scheduler, started, report, primary, per_epoch) -> bool:
    """Evaluate on validation, track the best, checkpoint, report; True when early stopping says stop."""
    name, direction = primary
    metrics = evaluate(model, adapter, validation, params.eval_batch_size, pad_id) if validation else {}
    row = {"step": state["step"], "epoch": round(state["epoch"] + state["batch"] / max(1, per_epoch), 4),
           "split": "validation", "train_loss": state["loss_sum"] / max(1, state["loss_count"]),
           "learning_rate": optimizer.param_groups[0]["lr"], **_scalars(metrics)}
    state["loss_sum"], state["loss_count"] = 0.0, 0
    value = metrics.get(name)
    if value is None:  # no validation data: the last step counts as the best
        value = -state["step"] if direction == "min" else state["step"]
    better = state["best_value"] is None or (value < state["best_value"] if direction == "min"
                                             else value > state["best_value"])
    stop = False
    if better:
        state["best_value"], state["best_step"], state["bad_evals"] = value, state["step"], 0
        if dist.main:
            (run_dir / "checkpoints").mkdir(parents=True, exist_ok=True)
            save_tensors_atomic(trainable_state(unwrap(model)), run_dir / "checkpoints" / "best.safetensors")
    else:
        state["bad_evals"] += 1
        if params.early_stopping_patience and state["bad_evals"] >= params.early_stopping_patience:
            outcome.stopped_early = stop = True
            logger.info("early stopping at step %d: no better %s for %d evaluations", state["step"], name,
                        params.early_stopping_patience)
    state["history"].append(row)
    state["elapsed"] = time.monotonic() - started
    if dist.main:
        fan_out(trackers, "log", row)
        save_checkpoint(run_dir / "checkpoints" / "last", unwrap(model), optimizer, scheduler, dict(state))
        if report is not None and name in metrics:
            report(state["step"], float(metrics[name]))
    return stop
