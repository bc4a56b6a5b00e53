"""Robustness on SST-2 dev: plain training vs --augment vs --adversarial fgm vs both, same seeds and epochs.

    .venv/bin/python bench/robustness_sst2.py [--train-rows 800 --epochs 2 --seeds 0,1,2 --dev-limit 300]
        [--arms plain,augment,fgm,augment+fgm,fgm-0.1,fgm-0.3] [--resume]

Each arm fine-tunes minilm-l6 (strategy full, fixed learning rate and epochs: no AutoTune,
so the arms differ only in the method) on the same seeded sample of SST-2 train, for each
seed; then ``tamellm.robustness`` runs every test on a seeded sample of SST-2 dev and the
greedy attack on correctly classified dev texts. Writes bench/results/robustness_sst2.json
and .md: per arm mean and spread over seeds of clean accuracy, each test's failure rate
and the attack success rate, with the load average next to the timings.

Every finished (arm, seed) is appended to robustness_sst2.partial.jsonl with the settings
it ran under; ``--resume`` keeps the rows there whose settings match this invocation and
runs only the missing ones, so an interrupted comparison can be completed seed by seed.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import DATA, RESULTS, write_results  # noqa: E402

ARMS = {"plain": {}, "augment": {"augment": "perturb", "augment_ratio": 0.5}, "fgm": {"adversarial": "fgm"},
        "augment+fgm": {"augment": "perturb", "augment_ratio": 0.5, "adversarial": "fgm"},
        # smaller FGM steps: epsilon 1.0 is about one embedding row's norm in MiniLM (~1.1), spread over the
        # sequence; FGM/FreeLB use small steps relative to the embedding scale
        "fgm-0.1": {"adversarial": "fgm", "epsilon": 0.1}, "fgm-0.3": {"adversarial": "fgm", "epsilon": 0.3}}
SETTINGS = ("train_rows", "epochs", "learning_rate", "max_length", "dev_limit", "attack_limit")


def _sample(split: str, rows: int | None, seed: int, out: Path) -> Path:
    with open(DATA / "sst2" / f"{split}.tsv", encoding="utf-8") as handle:
        data = list(csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))[1:]
    if rows is not None and rows < len(data):
        data = random.Random(seed).sample(data, rows)
    with open(out, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["sentence", "label"])
        writer.writerows([[r[0].strip(), "positive" if r[1] == "1" else "negative"] for r in data])
    return out


def _stats(values: list[float]) -> str:
    if len(values) == 1:
        return f"{values[0]:.3f}"
    return f"{statistics.mean(values):.3f} ± {statistics.stdev(values):.3f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train-rows", type=int, default=800)
    parser.add_argument("--epochs", type=float, default=2.0)
    parser.add_argument("--learning-rate", type=float, default=1e-4)
    parser.add_argument("--max-length", type=int, default=48)
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--dev-limit", type=int, default=300)
    parser.add_argument("--attack-limit", type=int, default=30)
    parser.add_argument("--arms", default=",".join(ARMS))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--resume", action="store_true",
                        help="keep the rows of robustness_sst2.partial.jsonl run under the same settings")
    parser.add_argument("--aggregate-only", action="store_true",
                        help="with --resume: train nothing, write the tables from the stored rows")
    args = parser.parse_args()

    import torch

    import tamellm

    torch.set_num_threads(args.threads)
    seeds = [int(s) for s in args.seeds.split(",")]
    arms = args.arms.split(",")
    work = Path(tempfile.mkdtemp(prefix="robustness-sst2-"))
    train = _sample("train", args.train_rows, 0, work / "train.csv")  # the same rows for every arm and seed
    dev = _sample("dev", None, 0, work / "dev.csv")
    unknown = sorted(set(arms) - set(ARMS))
    if unknown:
        parser.error(f"unknown arms {unknown}; known: {', '.join(ARMS)}")
    settings = {k: getattr(args, k) for k in SETTINGS}
    partial = RESULTS / "robustness_sst2.partial.jsonl"
    runs, load = [], {"start": os.getloadavg()}
    if args.resume and partial.exists():
        stored = [json.loads(line) for line in partial.read_text(encoding="utf-8").splitlines() if line.strip()]
        runs = [r for r in stored if r.get("settings") == settings and r["arm"] in arms and r["seed"] in seeds]
        print(f"resuming: {len(runs)} stored runs kept", flush=True)
    done = {(r["arm"], r["seed"]) for r in runs}
    first_report = None
    for seed in seeds:
        for arm in arms:
            if (arm, seed) in done or args.aggregate_only:
                continue
            started = time.monotonic()
            result = tamellm.train(data=str(train), model="minilm-l6", strategy="full", epochs=args.epochs,
                                   learning_rate=args.learning_rate, batch_size=16, max_length=args.max_length,
                                   early_stopping_patience=0, seed=seed, output=str(work / "runs"),
                                   run_dir=str(work / "runs" / f"{arm}-{seed}"), **ARMS[arm])
            train_s = time.monotonic() - started
            report = tamellm.robustness(result.model_dir, str(dev), output=str(work / "reports" / f"{arm}-{seed}"),
                                        limit=args.dev_limit, attack_limit=args.attack_limit, seed=0).to_dict()
            row = {"arm": arm, "seed": seed, "settings": settings, "train_seconds": round(train_s, 1),
                   "robustness_seconds": report["seconds"], "load_average": os.getloadavg()[0],
                   "clean_accuracy": report["clean_accuracy"],
                   "validation_accuracy": result.metrics["validation"]["accuracy"],
                   "failure_rates": {t["name"]: t["failure_rate"] for t in report["tests"] if t["examples"]},
                   "examples": {t["name"]: t["examples"] for t in report["tests"]},
                   "attack_success_rate": report["attack"]["success_rate"],
                   "attack_mean_words_changed": report["attack"]["mean_words_changed"]}
            runs.append(row)
            print(json.dumps(row), flush=True)
            partial.parent.mkdir(parents=True, exist_ok=True)
            with open(partial, "a", encoding="utf-8") as handle:
                handle.write(json.dumps(row) + "\n")
            if first_report is None:
                first_report = report
    load["end"] = os.getloadavg()
    tests = list(dict.fromkeys(t for r in runs for t in r["failure_rates"]))
    table = []
    for arm in arms:
        mine = [r for r in runs if r["arm"] == arm]
        if not mine:
            continue
        row = {"arm": arm, "seeds": len(mine), "clean accuracy": _stats([r["clean_accuracy"] for r in mine]),
               "attack success": _stats([r["attack_success_rate"] for r in mine]),
               "mean failure rate": _stats([statistics.mean(r["failure_rates"].values()) for r in mine]),
               "train s min/median/max": "/".join(f"{f([r['train_seconds'] for r in mine]):.1f}"
                                                  for f in (min, statistics.median, max)),
               "load average (per run)": "-".join(f"{f(r['load_average'] for r in mine):.1f}" for f in (min, max))}
        row.update({t: _stats([r["failure_rates"].get(t, 0.0) for r in mine]) for t in tests})
        table.append(row)
    everything = {k: getattr(args, k) for k in vars(args)}
    missing = [(a, s) for s in seeds for a in arms if (a, s) not in {(r["arm"], r["seed"]) for r in runs}]
    write_results("robustness_sst2", {"settings": everything, "arms": {a: ARMS[a] for a in arms}, "load_average": load,
                                      "runs": runs, "missing": missing, "first_report": first_report}, table)
    if not missing:  # complete: the stored rows are in robustness_sst2.json now
        partial.unlink(missing_ok=True)
    print((RESULTS / "robustness_sst2.md").read_text())


if __name__ == "__main__":
    main()
