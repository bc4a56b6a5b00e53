"""Instruction tuning SmolLM2-135M-Instruct with LoRA on BankFAQs: ROUGE-L on held-out questions, before/after.

``flock /tmp/tamellm-heavy.lock .venv/bin/python bench/train_instruct.py [--quick] [--budget 10m]``
"""

import sys
import tempfile
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import DATA, write_results  # noqa: E402
from train_common import setup  # noqa: E402


def rouge(model: object, questions: list[str], answers: list[str], max_new_tokens: int) -> float:
    from tamellm.metrics import generation_metrics

    outputs = [model.predict(q, max_new_tokens=max_new_tokens).text for q in questions]
    return round(generation_metrics(answers, outputs)["rouge_l"], 4)


def main() -> None:
    args = setup(__doc__)
    import tamellm
    from tamellm.config import config_from_dict
    from tamellm.training.run import train_model

    faq = pd.read_csv(DATA / "bank_faq" / "BankFAQs.csv").dropna().drop_duplicates("Question")
    faq = faq.sample(frac=1.0, random_state=0)
    n_held = 10 if args.quick else 40
    held, train = faq.iloc[:n_held], faq.iloc[n_held:n_held + (200 if args.quick else len(faq))]
    tokens = 32 if args.quick else 64
    before = rouge(tamellm.load("smollm2-135m-instruct"), held.Question.tolist(), held.Answer.tolist(), tokens)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        train[["Question", "Answer"]].to_csv(work / "train.csv", index=False)
        config = config_from_dict({"task": "generate", "model": "smollm2-135m-instruct", "seed": 0,
                                   "output": str(work), "data": {"train": str(work / "train.csv"), "test_size": 0},
                                   "train": {"strategy": "lora", "epochs": 1, "batch_size": 8,
                                             "max_length": 256}})
        result = train_model(config, run_dir=work / "run", budget_s=args.budget_s)
        after = rouge(tamellm.load(result.model_dir), held.Question.tolist(), held.Answer.tolist(), tokens)
        seconds = round(result.seconds, 1)
    row = {"arm": "SmolLM2 + LoRA", "held_out": n_held, "rouge_l_before": before, "rouge_l_after": after,
           "train_seconds": seconds, "validation_loss": round(result.metrics["validation"]["loss"], 4)}
    print(row)
    write_results("train_instruct_quick" if args.quick else "train_instruct", {"budget_s": args.budget_s,
                                                                               "rows": [row]}, [row])


if __name__ == "__main__":
    main()
