"""SST-2 with MiniLM: tamellm head-only / full / LoRA against the plain Hugging Face Trainer, same budget.

One command: ``flock /tmp/tamellm-heavy.lock .venv/bin/python bench/train_sst2.py [--quick] [--budget 10m]``.
Each arm trains for the same wall-clock budget on the same training sample; dev accuracy
(SST-2 dev is never seen in training: validation is a slice held out of train) and
training samples/s are reported, with ratios against the HF Trainer run of the same process.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import DATA, write_results  # noqa: E402


def _write_tsv(path: Path, texts: list[str], labels: list[int]) -> Path:
    import pandas as pd

    pd.DataFrame({"sentence": texts, "label": labels}).to_csv(path, sep="\t", index=False)
    return path


def _sample(quick: bool) -> tuple[list[str], list[int], list[str], list[int], list[str], list[int]]:
    import pandas as pd

    train = pd.read_csv(DATA / "sst2" / "train.tsv", sep="\t", quoting=3).sample(frac=1.0, random_state=0)
    dev = pd.read_csv(DATA / "sst2" / "dev.tsv", sep="\t", quoting=3)
    n_train, n_val = (1500, 200) if quick else (20000, 500)
    if quick:
        dev = dev.iloc[:200]
    fit, val = train.iloc[:n_train], train.iloc[n_train:n_train + n_val]
    return (fit.sentence.str.strip().tolist(), fit.label.tolist(), val.sentence.str.strip().tolist(),
            val.label.tolist(), dev.sentence.str.strip().tolist(), dev.label.tolist())


def run_tamellm(strategy: str, files: dict, work: Path, budget_s: float) -> dict:
    from tamellm.config import config_from_dict
    from tamellm.training.run import train_model

    config = config_from_dict({"task": "classify", "model": "minilm-l6", "seed": 0, "output": str(work),
                               "data": {"train": str(files["train"]), "validation": str(files["validation"]),
                                        "test": str(files["test"]), "text_column": "sentence",
                                        "label_column": "label"},
                               "train": {"strategy": strategy, "epochs": 3}})
    result = train_model(config, run_dir=work / strategy, budget_s=budget_s)
    # Conservative: result.seconds also counts data loading, the periodic evaluations and the final dev pass.
    steps = result.history[-1]["step"] if result.history else 0
    samples = steps * result.params["batch_size"] * result.params["gradient_accumulation"]
    return {"arm": f"tamellm {strategy}", "dev_accuracy": round(result.metrics["test"]["accuracy"], 4),
            "seconds": round(result.seconds, 1), "train_samples": samples,
            "samples_per_s": round(samples / max(result.seconds, 1e-9), 2), "stopped_early": result.stopped_early}


def run_hf_trainer(texts: dict, work: Path, budget_s: float) -> dict:
    """The baseline: transformers' Trainer with default TrainingArguments, stopped by the same budget."""
    from transformers import (
        AutoModelForSequenceClassification,
        AutoTokenizer,
        DataCollatorWithPadding,
        Trainer,
        TrainerCallback,
        TrainingArguments,
    )

    from tamellm.models.resolve import resolve

    path = resolve("minilm-l6").path
    tokenizer = AutoTokenizer.from_pretrained(path)
    model = AutoModelForSequenceClassification.from_pretrained(path, num_labels=2, ignore_mismatched_sizes=True)
    encoded = tokenizer(texts["train"][0], truncation=True)
    # A list of dicts is a valid torch Dataset for the Trainer (the `datasets` package is not installed).
    train = [{"input_ids": ids, "attention_mask": mask, "labels": label}
             for ids, mask, label in zip(encoded["input_ids"], encoded["attention_mask"], texts["train"][1],
                                         strict=True)]
    started = time.monotonic()

    class Budget(TrainerCallback):
        def on_step_end(self, args, state, control, **kwargs):
            if time.monotonic() - started >= budget_s:
                control.should_training_stop = True

    args = TrainingArguments(output_dir=str(work / "hf"), report_to=[], save_strategy="no", seed=0,
                             disable_tqdm=True, logging_strategy="no")
    trainer = Trainer(model=model, args=args, train_dataset=train, data_collator=DataCollatorWithPadding(tokenizer),
                      callbacks=[Budget()])
    output = trainer.train()
    seconds = time.monotonic() - started
    samples = trainer.state.global_step * args.per_device_train_batch_size  # seconds: Trainer.train() only
    model.eval()
    correct = 0
    with torch.inference_mode():
        dev_texts, dev_labels = texts["test"]
        for i in range(0, len(dev_texts), 64):
            batch = tokenizer(dev_texts[i:i + 64], padding=True, truncation=True, return_tensors="pt")
            correct += int((model(**batch).logits.argmax(-1) == torch.tensor(dev_labels[i:i + 64])).sum())
    del output
    return {"arm": "HF Trainer (defaults)", "dev_accuracy": round(correct / len(dev_texts), 4),
            "seconds": round(seconds, 1), "train_samples": samples,
            "samples_per_s": round(samples / max(seconds, 1e-9), 2), "stopped_early": False}


ARMS = "head-only,full,lora,hf"


def main() -> None:
    from tamellm.config import parse_budget

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a smoke run: small sample, 30 s per arm")
    parser.add_argument("--budget", default=None, help="per-arm budget (default 10m, quick 30s)")
    parser.add_argument("--arms", default=ARMS, help="comma-separated arms")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    os.environ.setdefault("TAMELLM_TRACKING", "0")
    os.environ.setdefault("TAMELLM_PROGRESS", "0")
    torch.set_num_threads(2)
    budget_s = parse_budget(args.budget or ("30s" if args.quick else "10m"))
    tr, tl, vt, vl, dt, dl = _sample(args.quick)
    texts = {"train": (tr, tl), "validation": (vt, vl), "test": (dt, dl)}
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        files = {name: _write_tsv(work / f"{name}.tsv", *pair) for name, pair in texts.items()}
        for arm in args.arms.split(","):
            row = run_hf_trainer(texts, work, budget_s) if arm == "hf" else run_tamellm(arm, files, work, budget_s)
            print(row, flush=True)
            rows.append(row)
    base = next((r for r in rows if r["arm"].startswith("HF")), None)
    for row in rows:
        if base:
            row["accuracy_ratio"] = round(row["dev_accuracy"] / max(base["dev_accuracy"], 1e-9), 3)
            row["speed_ratio"] = round(row["samples_per_s"] / max(base["samples_per_s"], 1e-9), 3)
    name = "train_sst2_quick" if args.quick else "train_sst2"
    if set(args.arms.split(",")) != set(ARMS.split(",")):  # a subset does not overwrite the full table
        name += "_" + "_".join(arm.replace("-", "") for arm in args.arms.split(","))
    md = write_results(name, {"budget_s": budget_s, "train_rows": len(tr), "validation_rows": len(vt),
                              "dev_rows": len(dt), "rows": rows}, rows)
    print(md.read_text())


if __name__ == "__main__":
    main()
