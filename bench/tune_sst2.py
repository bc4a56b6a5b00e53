"""AutoTune on SST-2 (MiniLM) within a short budget vs one run with the default hyperparameters.

    flock /tmp/tamellm-heavy.lock .venv/bin/python bench/tune_sst2.py [--budget 10m] [--train-rows 4000]

Both arms see the same training sample, the same validation cut and the SST-2 dev set as
test set; the baseline trains once with the trainer's defaults (head-only and full,
whichever the tuner searched gets the same defaults) under the same wall-clock budget.
Writes bench/results/tune_sst2.json and .md.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import read_sst2, write_results  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--budget", default="10m", help="AutoTune budget (and the baseline's)")
    parser.add_argument("--train-rows", type=int, default=4000, help="SST-2 training sentences sampled")
    parser.add_argument("--strategy", default="auto", help="auto, or one strategy to tune")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 60 s, 400 rows")
    args = parser.parse_args()
    if args.quick:
        args.budget, args.train_rows = "60s", 400
    import torch

    torch.set_num_threads(2)
    from tamellm import api
    from tamellm.config import parse_budget
    from tamellm.training.run import train_model
    from tamellm.tuning.job import job_config

    texts, labels = read_sst2("train")
    train = pd.DataFrame({"sentence": texts, "label": labels}).sample(n=args.train_rows, random_state=0)
    dev_texts, dev_labels = read_sst2("dev")
    work = Path(tempfile.mkdtemp(prefix="tune-sst2-"))
    train_path, dev_path = work / "train.csv", work / "dev.csv"
    train.to_csv(train_path, index=False)
    pd.DataFrame({"sentence": dev_texts, "label": dev_labels}).to_csv(dev_path, index=False)
    budget_s = parse_budget(args.budget)

    start = time.perf_counter()
    tuned = api.tune(data=train_path, test=dev_path, budget=budget_s, output=work / "tune", model="minilm-l6",
                     strategy=args.strategy, test_size=0.0)
    tuned_seconds = time.perf_counter() - start
    tuned_test = tuned.best_run.metrics["test"]

    base_strategy = args.strategy if args.strategy != "auto" else tuned.best_params["strategy"]
    config = job_config(train_path, model="minilm-l6", test=dev_path, test_size=0.0, strategy=base_strategy)
    start = time.perf_counter()
    base = train_model(config, run_dir=work / "default", budget_s=budget_s)
    base_seconds = time.perf_counter() - start
    base_test = base.metrics["test"]

    rows = [
        {"arm": f"default hyperparameters ({base_strategy})", "dev accuracy": round(base_test["accuracy"], 4),
         "macro-F1": round(base_test["macro_f1"], 4), "seconds": round(base_seconds, 1), "trials": 1},
        {"arm": f"AutoTune ({args.budget}, best: {tuned.best_params['strategy']})",
         "dev accuracy": round(tuned_test["accuracy"], 4), "macro-F1": round(tuned_test["macro_f1"], 4),
         "seconds": round(tuned_seconds, 1), "trials": len(tuned.trials)},
    ]
    ratio = tuned_test["accuracy"] / base_test["accuracy"] if base_test["accuracy"] else None
    md = write_results("tune_sst2", {"budget": args.budget, "train_rows": args.train_rows,
                                     "accuracy_ratio_tuned_vs_default": ratio, "best_params": tuned.best_params,
                                     "trials": tuned.trials, "rows": rows}, rows)
    print(md.read_text())
    print(f"accuracy ratio (AutoTune / default): {ratio:.3f}" if ratio else "no ratio")


if __name__ == "__main__":
    main()
