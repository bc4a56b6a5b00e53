"""SmolLM2-135M-Instruct decoding speed: transformers ``generate`` vs tamellm's engine vs llama.cpp.

One command (under the shared heavy lock):
    flock /tmp/tamellm-heavy.lock .venv/bin/python bench/generation_speed.py

Same chat prompt, greedy decoding, the same number of new tokens asked for; each
engine runs ``--repeats`` times after a warm-up and reports the median new tokens per
second. Engines: a plain ``AutoModelForCausalLM.generate`` on the dequantized fp32
copy (the baseline), ``tamellm.chat`` on the default (transformers) backend, and
``tamellm.chat`` on the llama.cpp backend (the shipped Q4_1 GGUF), when
llama-cpp-python is installed. Writes bench/results/generation_speed.json and .md.
"""

from __future__ import annotations

import argparse
import importlib.util
import logging
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import write_results  # noqa: E402

MODEL = "smollm2-135m-instruct"
PROMPT = "Explain in a few sentences why the sky is blue."


def timed(fn, repeats: int) -> tuple[float, int, str]:
    """Median tokens/s of ``fn`` (which returns (new_tokens, text)) after one warm-up."""
    fn()
    speeds, tokens, text = [], 0, ""
    for _ in range(repeats):
        start = time.perf_counter()
        tokens, text = fn()
        speeds.append(tokens / (time.perf_counter() - start))
    return statistics.median(speeds), tokens, text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-new-tokens", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    import tamellm

    torch.set_num_threads(2)
    messages = [{"role": "user", "content": PROMPT}]
    engine = tamellm.load(MODEL)  # converts the GGUF once (cached), then loads the fp32 copy
    folder = Path(engine.model.name_or_path)
    model = AutoModelForCausalLM.from_pretrained(folder).eval()
    tokenizer = AutoTokenizer.from_pretrained(folder)
    inputs = tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_tensors="pt",
                                           return_dict=True)

    def plain():
        with torch.no_grad():
            out = model.generate(**inputs, max_new_tokens=args.max_new_tokens, do_sample=False,
                                 pad_token_id=tokenizer.eos_token_id)
        new = out[0, inputs["input_ids"].shape[1]:]
        return len(new), tokenizer.decode(new, skip_special_tokens=True)

    def ours(generator):
        def run():
            g = generator.chat(messages, max_new_tokens=args.max_new_tokens)
            return g.new_tokens, g.text
        return run

    rows = []
    engines = [("transformers generate (baseline)", plain), ("tamellm (transformers backend)", ours(engine))]
    if importlib.util.find_spec("llama_cpp"):
        engines.append(("tamellm (llama.cpp backend)", ours(tamellm.load(MODEL, backend="llama.cpp"))))
    else:
        logging.warning("llama-cpp-python is not installed: the llama.cpp row is skipped")
    for name, fn in engines:
        speed, tokens, text = timed(fn, args.repeats)
        rows.append({"engine": name, "tokens_per_s": round(speed, 1), "new_tokens": tokens,
                     "text_start": text[:80].replace("\n", " ").replace("|", "/")})
        logging.info("%s: %.1f tok/s", name, speed)
    base = rows[0]["tokens_per_s"]
    for row in rows:
        row["x_baseline"] = round(row["tokens_per_s"] / base, 2)
    md = write_results("generation_speed", {"model": MODEL, "prompt": PROMPT, "max_new_tokens": args.max_new_tokens,
                                            "repeats": args.repeats, "greedy": True, "rows": rows}, rows)
    print(md.read_text())


if __name__ == "__main__":
    main()
