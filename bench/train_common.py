"""What the training benchmarks share: one tamellm training run with a budget, a row of results."""

from __future__ import annotations

import argparse
import logging
import os
from collections.abc import Callable
from pathlib import Path

import torch


def setup(description: str, quick_budget: str = "30s", full_budget: str = "10m",
          extra: Callable[[argparse.ArgumentParser], None] | None = None) -> argparse.Namespace:
    """Parse --quick / --budget (and what ``extra`` adds), quiet logging, 2 threads, trackers and progress off."""
    from tamellm.config import parse_budget

    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help="a smoke run with a short budget")
    parser.add_argument("--budget", default=None, help=f"training budget (default {full_budget}, quick {quick_budget})")
    if extra is not None:
        extra(parser)
    args = parser.parse_args()
    args.budget_s = parse_budget(args.budget or (quick_budget if args.quick else full_budget))
    logging.basicConfig(level=logging.WARNING)
    os.environ.setdefault("TAMELLM_TRACKING", "0")
    os.environ.setdefault("TAMELLM_PROGRESS", "0")
    torch.set_num_threads(2)
    return args


def train_row(name: str, config: dict, run_dir: Path, budget_s: float, metric: str, params: dict | None = None) -> dict:
    """Train once and return {arm, test metric, validation metric, seconds, steps}."""
    from tamellm.config import config_from_dict
    from tamellm.training.run import train_model

    result = train_model(config_from_dict(config), run_dir=run_dir, budget_s=budget_s, params=params)
    test = result.metrics.get("test") or {}
    return {"arm": name, f"test_{metric}": round(float(test.get(metric, float("nan"))), 4),
            f"validation_{metric}": round(float(result.metrics["validation"][metric]), 4),
            "seconds": round(result.seconds, 1), "steps": result.history[-1]["step"] if result.history else 0,
            "stopped_early": result.stopped_early}
