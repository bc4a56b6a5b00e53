"""Seconds per explanation at 64 tokens, per method, with the fine-tuned SST-2 MiniLM classifier.

Run (under the shared heavy lock):
    flock /tmp/tamellm-heavy.lock .venv/bin/python bench/explain_speed.py

Each method explains the same texts of exactly 64 tokens ([CLS] + 62 + [SEP], built
from SST-2 dev sentences) toward the predicted label; the median over texts is
reported, with the ratio to captum's default IntegratedGradients settings
(n_steps=50, all steps in one batch) measured in the same run. Goal for the default
method: <= 0.3 s.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
from common import read_sst2, write_results
from fixtures import sst2_classifier

import tamellm
from tamellm.explanations import build_target, explain_target, method_names

TOKENS = 64


def texts_of_64_tokens(tokenizer, n: int) -> list[str]:
    """``n`` texts of exactly 64 tokens each, cut from consecutive SST-2 dev sentences."""
    sentences, _ = read_sst2("dev")
    out, i = [], 0
    while len(out) < n:
        text = ""
        while len(tokenizer(text)["input_ids"]) < TOKENS + 10:
            text += sentences[i] + " "
            i += 1
        enc = tokenizer(text, return_offsets_mapping=True, add_special_tokens=False)
        cut = enc["offset_mapping"][TOKENS - 3][1]
        text = text[:cut]
        if len(tokenizer(text)["input_ids"]) == TOKENS:  # a cut inside a word may re-tokenize longer
            out.append(text)
    return out


def seconds_per_explanation(model, texts: list[str], method: str, **options) -> list[float]:
    """Wall time of one explanation (target built and method run) for each text."""
    explain_target(build_target(model, texts[0]), method, **options)  # warm-up
    times = []
    for text in texts:
        start = time.perf_counter()
        explain_target(build_target(model, text), method, **options)
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--texts", type=int, default=7)
    args = parser.parse_args()
    torch.set_num_threads(2)
    model = tamellm.load(sst2_classifier())
    texts = texts_of_64_tokens(model.tokenizer, args.texts)
    captum_default = {"n_steps": 50, "internal_batch_size": None}
    variants = [("captum default IG (n_steps=50)", "integrated_gradients", captum_default)]
    variants += [(f"integrated_gradients (n_steps={n})", "integrated_gradients", {"n_steps": n}) for n in (8, 32)]
    variants += [(m, m, {}) for m in method_names()]
    rows, raw = [], {}
    for name, method, options in variants:
        times = seconds_per_explanation(model, texts, method, **options)
        raw[name] = times
        print(f"{name}: median {statistics.median(times):.3f} s", flush=True)
    baseline = statistics.median(raw[variants[0][0]])
    for name, times in raw.items():
        median = statistics.median(times)
        rows.append({"method": name, "median_s": round(median, 4), "min_s": round(min(times), 4),
                     "max_s": round(max(times), 4), "vs_captum_default_ig": round(median / baseline, 3)})
    md = write_results("explain_speed", {"model": "sst2-minilm (bench/fixtures.py)", "tokens": TOKENS,
                                         "texts": len(texts), "raw_seconds": raw, "goal_default_s": 0.3,
                                         "default_method": "integrated_gradients (n_steps=16)"}, rows)
    print(md.read_text())


if __name__ == "__main__":
    main()
