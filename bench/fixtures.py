"""Shared benchmark fixtures: a MiniLM classifier fine-tuned on SST-2, built once and cached.

Run once (under the shared heavy lock) so the folder exists for every benchmark:
    flock /tmp/tamellm-heavy.lock .venv/bin/python bench/fixtures.py

``sst2_classifier()`` fine-tunes minilm-l6 on SST-2 train with the plain Hugging Face
Trainer (lr 5e-5, batch 32, max length 64, seed 0) for a fixed wall-clock budget
(8 minutes by default), saves it as safetensors with id2label negative/positive to
``$TAMELLM_HOME/bench/sst2-minilm`` (written to a temp folder, then renamed) and returns
that folder on every later call.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import read_sst2  # noqa: E402

from tamellm.paths import cache_dir  # noqa: E402

log = logging.getLogger("bench.fixtures")
LABELS = ["negative", "positive"]
BUDGET_S = float(os.environ.get("TAMELLM_BENCH_TRAIN_BUDGET_S", 8 * 60))


def sst2_classifier_path() -> Path:
    """Where the cached SST-2 classifier lives (it may not exist yet)."""
    return cache_dir("bench") / "sst2-minilm"


def _dataset(tokenizer, texts: list[str], labels: list[int]):
    import torch

    class Encoded(torch.utils.data.Dataset):
        def __init__(self) -> None:
            self.enc = tokenizer(texts, truncation=True, max_length=64)
            self.labels = labels

        def __len__(self) -> int:
            return len(self.labels)

        def __getitem__(self, i: int) -> dict:
            item = {k: v[i] for k, v in self.enc.items()}
            item["labels"] = self.labels[i]
            return item

    return Encoded()


def sst2_classifier(budget_s: float = BUDGET_S) -> Path:
    """Fine-tune minilm-l6 on SST-2 (once) and return the cached model folder."""
    target = sst2_classifier_path()
    if (target / "config.json").exists() and list(target.glob("*.safetensors")):
        return target
    import numpy as np
    import torch
    from transformers import (
        AutoModelForSequenceClassification,
        AutoTokenizer,
        DataCollatorWithPadding,
        Trainer,
        TrainerCallback,
        TrainingArguments,
        set_seed,
    )

    from tamellm.models import resolve

    torch.set_num_threads(2)
    set_seed(0)
    base = resolve("minilm-l6").path
    tokenizer = AutoTokenizer.from_pretrained(base)
    model = AutoModelForSequenceClassification.from_pretrained(
        base, num_labels=2, id2label=dict(enumerate(LABELS)), label2id={n: i for i, n in enumerate(LABELS)},
        ignore_mismatched_sizes=True)
    train_texts, train_labels = read_sst2("train")
    dev_texts, dev_labels = read_sst2("dev")

    class Budget(TrainerCallback):
        """Stop training once the wall-clock budget is spent."""

        def on_train_begin(self, args, state, control, **kw):
            self.start = time.perf_counter()

        def on_step_end(self, args, state, control, **kw):
            if time.perf_counter() - self.start > budget_s:
                control.should_training_stop = True
            return control

    work = Path(tempfile.mkdtemp(prefix="sst2-train-", dir=target.parent))
    args = TrainingArguments(
        output_dir=str(work / "trainer"), learning_rate=5e-5, per_device_train_batch_size=32,
        per_device_eval_batch_size=64, num_train_epochs=1, seed=0, data_seed=0, logging_steps=50,
        save_strategy="no", report_to=[], use_cpu=True, dataloader_num_workers=0, warmup_steps=50)
    trainer = Trainer(model=model, args=args, train_dataset=_dataset(tokenizer, train_texts, train_labels),
                      data_collator=DataCollatorWithPadding(tokenizer), callbacks=[Budget()])
    start = time.perf_counter()
    out = trainer.train()
    train_s = time.perf_counter() - start
    preds = trainer.predict(_dataset(tokenizer, dev_texts, dev_labels))
    accuracy = float((np.argmax(preds.predictions, -1) == np.array(dev_labels)).mean())
    staged = work / "model"
    model.save_pretrained(staged, safe_serialization=True)
    tokenizer.save_pretrained(staged)
    (staged / "tamellm.json").write_text(json.dumps({"task": "classify", "kind": "transformers"}))
    (staged / "training.json").write_text(json.dumps({
        "base": "minilm-l6", "steps": out.global_step, "train_seconds": round(train_s, 1),
        "dev_accuracy": round(accuracy, 4), "lr": 5e-5, "batch": 32, "max_length": 64, "seed": 0}, indent=2))
    if target.exists():
        shutil.rmtree(target)
    os.replace(staged, target)
    shutil.rmtree(work, ignore_errors=True)
    log.info("SST-2 classifier: %d steps in %.0f s, dev accuracy %.4f", out.global_step, train_s, accuracy)
    return target


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    path = sst2_classifier()
    print(path)
    print((path / "training.json").read_text())
