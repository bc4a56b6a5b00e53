"""How many integrated-gradients steps the default needs: faithfulness and cost per n_steps.

Run (under the shared heavy lock):
    flock /tmp/tamellm-heavy.lock .venv/bin/python bench/explain_ig_steps.py

ERASER comprehensiveness / sufficiency on SST-2 dev sentences (seeded sample, the
fine-tuned MiniLM classifier of bench/fixtures.py) and median seconds per explanation
at 64 tokens, for n_steps in 4, 8, 16, 50 (50 is captum's default), in the same run.
"""

from __future__ import annotations

import argparse
import random
import statistics

import torch
from common import read_sst2, write_results
from explain_speed import seconds_per_explanation, texts_of_64_tokens
from fixtures import sst2_classifier

import tamellm
from tamellm.explanations import build_target
from tamellm.explanations.faithfulness import evaluate_method


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--texts", type=int, default=100)
    args = parser.parse_args()
    torch.set_num_threads(2)
    model = tamellm.load(sst2_classifier())
    sentences, _ = read_sst2("dev")
    texts = random.Random(0).sample(sentences, args.texts)
    targets = [build_target(model, t) for t in texts]
    long_texts = texts_of_64_tokens(model.tokenizer, 7)
    rows = []
    for n_steps in (4, 8, 16, 50):
        result = evaluate_method(model, texts, "integrated_gradients", targets, n_steps=n_steps)
        seconds = statistics.median(seconds_per_explanation(model, long_texts, "integrated_gradients",
                                                            n_steps=n_steps))
        rows.append({"n_steps": n_steps, "comprehensiveness ↑": round(result.comprehensiveness, 4),
                     "sufficiency ↓": round(result.sufficiency, 4),
                     "comp − suff": round(result.comprehensiveness - result.sufficiency, 4),
                     "median s at 64 tokens": round(seconds, 4)})
        print(rows[-1], flush=True)
    md = write_results("explain_ig_steps", {"model": "sst2-minilm (bench/fixtures.py)", "texts": len(texts),
                                            "tokens_for_timing": 64}, rows)
    print(md.read_text())


if __name__ == "__main__":
    main()
