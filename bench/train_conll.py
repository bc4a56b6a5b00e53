"""CoNLL-2003 NER with MiniLM (full fine-tuning): test entity F1 (seqeval) and training time.

``flock /tmp/tamellm-heavy.lock .venv/bin/python bench/train_conll.py [--quick] [--budget 10m]``
"""

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import DATA, write_results  # noqa: E402
from train_common import setup, train_row  # noqa: E402


def _head(path: Path, out: Path, sentences: int) -> Path:
    blocks = path.read_text(encoding="utf-8").split("\n\n")[:sentences]
    out.write_text("\n\n".join(blocks) + "\n", encoding="utf-8")
    return out


def main() -> None:
    args = setup(__doc__)
    folder = DATA / "conll2003"
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        files = {name: folder / f"{name}.txt" for name in ("train", "valid", "test")}
        if args.quick:
            files = {name: _head(path, work / path.name, 400 if name == "train" else 150)
                     for name, path in files.items()}
        config = {"task": "ner", "model": "minilm-l6", "seed": 0, "output": str(work),
                  "data": {"train": str(files["train"]), "validation": str(files["valid"]),
                           "test": str(files["test"])},
                  "train": {"strategy": "full", "epochs": 3, "learning_rate": 1e-4}}
        row = train_row("tamellm full (MiniLM)", config, work / "run", args.budget_s, "f1")
    print(row)
    write_results("train_conll_quick" if args.quick else "train_conll", {"budget_s": args.budget_s, "rows": [row]},
                  [row])


if __name__ == "__main__":
    main()
