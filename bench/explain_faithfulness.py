"""Faithfulness (ERASER comprehensiveness / sufficiency, AOPC) of every method on SST-2 dev.

Run (under the shared heavy lock):
    flock /tmp/tamellm-heavy.lock .venv/bin/python bench/explain_faithfulness.py

200 SST-2 dev sentences (seeded sample), the fine-tuned MiniLM classifier of
bench/fixtures.py, each method toward the predicted label, against a random
attribution baseline in the same run. Also integrated gradients with captum's default
50 steps, to check that the cheaper default (16 steps) loses nothing.
"""

from __future__ import annotations

import argparse
import random

import torch
from common import read_sst2, write_results
from fixtures import sst2_classifier

import tamellm
from tamellm.explanations import build_target, method_names
from tamellm.explanations.faithfulness import evaluate_method


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--texts", type=int, default=200)
    args = parser.parse_args()
    torch.set_num_threads(2)
    model = tamellm.load(sst2_classifier())
    sentences, _ = read_sst2("dev")
    texts = random.Random(0).sample(sentences, args.texts)
    targets = [build_target(model, t) for t in texts]
    order = ["random", "attention_rollout", "gradient_x_input", "integrated_gradients", "occlusion", "kernel_shap",
             "lime"]  # cheapest first
    variants = [(m, m, {}) for m in sorted(method_names(), key=lambda m: order.index(m) if m in order else 99)]
    variants.append(("integrated_gradients (n_steps=50)", "integrated_gradients", {"n_steps": 50}))
    rows, raw = [], {}
    for name, method, options in variants:
        for target in targets:
            target._cache.clear()
        result = evaluate_method(model, texts, method, targets, **options)
        raw[name] = result.to_dict()
        print(f"{name}: comprehensiveness {result.comprehensiveness:.4f} sufficiency {result.sufficiency:.4f} "
              f"({result.seconds_per_text:.3f} s/text)", flush=True)
        rows.append({"method": name, "comprehensiveness ↑": round(result.comprehensiveness, 4),
                     "sufficiency ↓": round(result.sufficiency, 4),
                     "comp − suff": round(result.comprehensiveness - result.sufficiency, 4),
                     "s / text": round(result.seconds_per_text, 4)})
        rows.sort(key=lambda r: -r["comp − suff"])
        # Written after every method, so a long run that is stopped still leaves its numbers.
        md = write_results("explain_faithfulness", {"model": "sst2-minilm (bench/fixtures.py)", "texts": len(texts),
                                                    "bins": ["1%", "5%", "10%", "20%", "50%"], "results": raw,
                                                    "complete": len(rows) == len(variants)}, rows)
    print(md.read_text())


if __name__ == "__main__":
    main()
