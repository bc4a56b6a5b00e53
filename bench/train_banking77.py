"""Banking77 intent classification with MiniLM (full fine-tuning): test accuracy within a budget.

``flock /tmp/tamellm-heavy.lock .venv/bin/python bench/train_banking77.py [--quick] [--budget 10m]``
"""

import sys
import tempfile
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import DATA, write_results  # noqa: E402
from train_common import setup, train_row  # noqa: E402


def main() -> None:
    args = setup(__doc__)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        train = pd.read_csv(DATA / "banking77" / "train.csv")
        test = pd.read_csv(DATA / "banking77" / "test.csv")
        if args.quick:
            train = train.groupby("category").head(15)
            test = test.groupby("category").head(3)
        train.to_csv(work / "train.csv", index=False)
        test.to_csv(work / "test.csv", index=False)
        config = {"task": "classify", "model": "minilm-l6", "seed": 0, "output": str(work),
                  "data": {"train": str(work / "train.csv"), "test": str(work / "test.csv"),
                           "text_column": "text", "label_column": "category", "val_size": 0.1},
                  "train": {"strategy": "full", "epochs": 5, "learning_rate": 1e-4}}
        row = train_row("tamellm full (MiniLM)", config, work / "run", args.budget_s, "accuracy")
    print(row)
    write_results("train_banking77_quick" if args.quick else "train_banking77",
                  {"budget_s": args.budget_s, "rows": [row]}, [row])


if __name__ == "__main__":
    main()
