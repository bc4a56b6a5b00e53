"""A budget shorter than the planned steps ends the learning-rate schedule when the budget does."""

from __future__ import annotations

import torch

from tamellm.training.loop import _fit_to_budget, _schedule
from tamellm.training.params import TrainParams


def _state(horizon: int, step: int) -> dict:
    return {"horizon": horizon, "step": step, "paced": False}


def test_the_horizon_shrinks_to_the_steps_the_budget_fits():
    state = _state(horizon=1000, step=100)
    _fit_to_budget(state, elapsed=50.0, budget_s=100.0)  # 0.5 s a step: ~190 steps fit
    assert state["paced"] and state["horizon"] == 190
    roomy = _state(horizon=1000, step=100)
    _fit_to_budget(roomy, elapsed=5.0, budget_s=100.0)
    assert roomy["horizon"] == 1000
    late = _state(horizon=1000, step=100)
    _fit_to_budget(late, elapsed=100.0, budget_s=50.0)
    assert late["horizon"] == 101  # never behind the step already reached


def test_linear_schedule_decays_to_zero_at_the_shortened_horizon():
    layer = torch.nn.Linear(2, 2)
    optimizer = torch.optim.SGD(layer.parameters(), lr=1.0)
    state = _state(horizon=100, step=0)
    params = TrainParams(strategy="full", learning_rate=1.0, epochs=1, batch_size=8, scheduler="linear")
    scheduler = _schedule(optimizer, params, 10, state)
    rates = []
    for step in range(40):
        if step == 20:
            state["horizon"] = 40
        optimizer.step()
        scheduler.step()
        rates.append(optimizer.param_groups[0]["lr"])
    assert rates[4] == 0.5  # warming up: step 5 of 10
    assert rates[9] == 1.0 and rates[-1] == 0.0
    assert all(a >= b for a, b in zip(rates[9:], rates[10:], strict=False))
