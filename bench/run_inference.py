"""Batched ``embed`` / ``classify`` throughput against plain transformers loops, and
generation tokens/s, all measured in the same run on the same model.

Run: .venv/bin/python bench/run_inference.py [--repeats 5]

Baselines (the code a user would write by hand with transformers):
- per-text loop: tokenize one text, run the model under ``torch.no_grad``, mean-pool;
- batched loop: batches of 32 in input order, padded to the longest, ``torch.no_grad``.
tamellm sorts by length before batching and runs under ``torch.inference_mode``.
"""

from __future__ import annotations

import argparse
import statistics

import numpy as np
import torch
from common import interleaved_medians, median_time, read_sst2, write_results
from transformers import AutoModel, AutoTokenizer

import tamellm
from tamellm.models import resolve

LABELS = ["negative", "positive"]


def mean_pool(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    mask = mask.unsqueeze(-1).float()
    return torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1), dim=-1)


def plain_per_text(model, tokenizer, texts: list[str]) -> np.ndarray:
    out = []
    with torch.no_grad():
        for text in texts:
            batch = tokenizer(text, return_tensors="pt", truncation=True, max_length=256)
            out.append(mean_pool(model(**batch).last_hidden_state, batch["attention_mask"]))
    return torch.cat(out).numpy()


def plain_batched(model, tokenizer, texts: list[str], batch_size: int = 32) -> np.ndarray:
    out = []
    with torch.no_grad():
        for i in range(0, len(texts), batch_size):
            batch = tokenizer(texts[i:i + batch_size], return_tensors="pt", padding=True, truncation=True,
                              max_length=256)
            out.append(mean_pool(model(**batch).last_hidden_state, batch["attention_mask"]))
    return torch.cat(out).numpy()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--gen-tokens", type=int, default=64)
    args = parser.parse_args()
    texts, _ = read_sst2("dev")
    path = resolve("minilm-l6").path
    tokenizer = AutoTokenizer.from_pretrained(path)
    model = AutoModel.from_pretrained(path).eval()
    label_vectors = plain_batched(model, tokenizer, LABELS)

    ours = tamellm.embed(texts).vectors
    reference = plain_batched(model, tokenizer, texts)
    max_diff = float(np.abs(ours - reference).max())

    runs = {
        "embed: plain per-text loop": lambda: plain_per_text(model, tokenizer, texts),
        "embed: plain batched loop (32)": lambda: plain_batched(model, tokenizer, texts),
        "embed: tamellm.embed": lambda: tamellm.embed(texts),
        "classify: plain batched loop + cosine": lambda: (plain_batched(model, tokenizer, texts) @ label_vectors.T
                                                          ).argmax(1),
        "classify: tamellm.classify (zero-shot)": lambda: tamellm.classify(texts, labels=LABELS),
    }
    rows, raw = [], {}
    for name, (seconds, times) in interleaved_medians(runs, repeats=args.repeats).items():
        raw[name] = times
        rows.append({"run": name, "median s": round(seconds, 3), "texts/s": round(len(texts) / seconds, 1)})
    speed = {r["run"]: r["texts/s"] for r in rows}
    for row in rows:
        base = "embed: plain batched loop (32)" if row["run"].startswith("embed") else \
            "classify: plain batched loop + cosine"
        row["× batched loop"] = round(row["texts/s"] / speed[base], 2)
        row["× per-text loop"] = round(row["texts/s"] / speed["embed: plain per-text loop"], 2)

    # Generation: greedy decoding of the same prompt, tamellm.generate vs model.generate.
    prompt = "Write a short paragraph about the history of the bicycle."
    gen = tamellm.load("smollm2-135m-instruct")
    inputs = gen.tokenizer.apply_chat_template([{"role": "user", "content": prompt}], add_generation_prompt=True,
                                               return_tensors="pt", return_dict=True)
    tps_ours, tps_plain = [], []
    for _ in range(3):
        result = tamellm.generate(prompt, max_new_tokens=args.gen_tokens)
        tps_ours.append(result.tokens_per_second)
        seconds, _ = median_time(lambda: gen.model.generate(**inputs, max_new_tokens=args.gen_tokens,
                                                            do_sample=False, min_new_tokens=args.gen_tokens),
                                 repeats=1, warmup=0)
        tps_plain.append(args.gen_tokens / seconds)
    rows.append({"run": "generate: model.generate (greedy)", "median s": "", "texts/s": "",
                 "× batched loop": "", "× per-text loop": "",
                 "tokens/s": round(statistics.median(tps_plain), 1)})
    rows.append({"run": "generate: tamellm.generate (greedy)", "median s": "", "texts/s": "",
                 "× batched loop": "", "× per-text loop": "",
                 "tokens/s": round(statistics.median(tps_ours), 1)})
    for row in rows:
        row.setdefault("tokens/s", "")
    md = write_results("inference", {"texts": len(texts), "repeats": args.repeats, "max_abs_diff_vs_plain": max_diff,
                                     "rows": rows, "raw_seconds": raw}, rows)
    print(md.read_text())


if __name__ == "__main__":
    main()
