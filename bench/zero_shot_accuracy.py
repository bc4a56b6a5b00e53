"""Zero-shot accuracy of ``tamellm.classify`` on SST-2 dev and Banking77 test.

Run: .venv/bin/python bench/zero_shot_accuracy.py
"""

from __future__ import annotations

import time

from common import read_banking77, read_sst2, write_results

import tamellm


def accuracy(texts: list[str], gold: list[str], labels: list[str]) -> tuple[float, float]:
    """Accuracy and seconds for classifying ``texts`` over ``labels``."""
    start = time.perf_counter()
    predictions = tamellm.classify(texts, labels=labels)
    seconds = time.perf_counter() - start
    correct = sum(p.label == g for p, g in zip(predictions, gold, strict=True))
    return correct / len(gold), seconds


def main() -> None:
    tamellm.classify("warm up", labels=["a", "b"])  # load the model outside the timings
    rows = []
    texts, ints = read_sst2("dev")
    names = ["negative", "positive"]
    acc, secs = accuracy(texts, [names[i] for i in ints], names)
    rows.append({"dataset": "SST-2 dev", "examples": len(texts), "labels": 2, "accuracy": round(acc, 4),
                 "chance": 0.5, "seconds": round(secs, 1)})
    texts, gold = read_banking77("test")
    intents = sorted(set(gold))
    acc, secs = accuracy(texts, gold, intents)
    rows.append({"dataset": "Banking77 test", "examples": len(texts), "labels": len(intents),
                 "accuracy": round(acc, 4), "chance": round(1 / len(intents), 4), "seconds": round(secs, 1)})
    md = write_results("zero_shot_accuracy", {"model": "minilm-l6", "results": rows}, rows)
    print(md.read_text())


if __name__ == "__main__":
    main()
