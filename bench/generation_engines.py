"""CPU generation engines for SmolLM2-135M-Instruct, side by side in one run: which one tamellm runs by default.

One command (under the shared heavy lock):
    flock /tmp/tamellm-heavy.lock .venv/bin/python bench/generation_engines.py

Same chat prompt, greedy decoding, ``--max-new-tokens`` (128) new tokens. Engines:
``transformers`` (tamellm's torch path on the dequantized fp32 copy: the baseline),
``onnxruntime-genai int8`` (tamellm's default engine), ``ctranslate2 int8`` (tamellm's
``backend="ctranslate2"``), ``onnxruntime-genai int4`` (the same generator on an int4 copy), and
``llama.cpp`` (tamellm's backend on the shipped Q4_1 GGUF) when ``make llama`` was run.
The engines run round-robin (A, B, C, A, B, C, ...) so background load falls on every
engine alike. Per engine: median / min / max new tokens per second, median time to
first token (a 1-token answer: the prompt's pass plus one step), the resident memory
the engine added when it was loaded, how many leading tokens of its greedy answer
match transformers' (both re-tokenized with the model's tokenizer), and how far it is
from the memory-bandwidth limit (the measured copy bandwidth divided by the bytes of
weights one token reads: an ONNX graph's weights but the embedding table it only Gathers a row
of). The load average is recorded before and after.
Writes bench/results/generation_engines.json and .md.
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import logging
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import write_results  # noqa: E402

MODEL = "smollm2-135m-instruct"
PROMPT = "Write a long story, at least 300 words, about a dragon who learns to paint."
log = logging.getLogger("bench.generation_engines")

# An engine: load() -> run(max_new_tokens) -> (new_tokens, text, seconds)
Runner = Callable[[int], tuple[int, str, float]]


def rss_mb() -> float:
    """This process's resident memory now, in MB."""
    import psutil

    return psutil.Process().memory_info().rss / 2**20


def copy_bandwidth_gbs(size_mb: int = 256, repeats: int = 5) -> float:
    """Best-of-``repeats`` memory bandwidth of a large array copy (read + write), in GB/s."""
    import numpy as np

    src = np.ones(size_mb * 2**20 // 8)
    dst = np.empty_like(src)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        np.copyto(dst, src)
        best = min(best, time.perf_counter() - start)
    return 2 * src.nbytes / best / 1e9


def tamellm_engine(backend: str, messages: list[dict]) -> tuple[Runner, Path | None]:
    """One of tamellm's backends through its public ``chat`` (what users run)."""
    import tamellm

    model = tamellm.load(MODEL, backend=backend)

    def run(n: int) -> tuple[int, str, float]:
        g = model.chat(messages, max_new_tokens=n)
        return g.new_tokens, g.text, g.seconds

    folder = getattr(model, "folder", None)
    return run, folder


def genai_raw(messages: list[dict], precision: str, extra: tuple[str, ...] = (),
              session: dict | None = None) -> tuple[Runner, Path]:
    """tamellm's onnxruntime-genai generator on a variant: another precision, builder options that
    replace or add to tamellm's own (``extra``, KEY=VALUE), or other session options (``session``,
    overlaid on genai_config.json)."""
    import json

    import onnxruntime_genai as og
    from transformers import AutoTokenizer

    from tamellm.models import resolve
    from tamellm.models.genai_cache import build_options, ensure_genai
    from tamellm.models.loaders import LoadedModel
    from tamellm.tasks.ort_genai import GenaiGenerator, source_folder

    resolved = resolve(MODEL)
    source = source_folder(resolved)
    keys = {option.split("=")[0] for option in extra}
    options = tuple(o for o in build_options(precision) if o.split("=")[0] not in keys) + extra
    folder = ensure_genai(source, precision, options if extra else None)
    config = og.Config(str(folder))
    if session:
        config.overlay(json.dumps({"model": {"decoder": {"session_options": session}}}))
    engine = GenaiGenerator(LoadedModel(resolved, og.Model(config), AutoTokenizer.from_pretrained(source)),
                            folder)

    def run(n: int) -> tuple[int, str, float]:
        g = engine.chat(messages, max_new_tokens=n)
        return g.new_tokens, g.text, g.seconds

    return run, folder


def weights_mb(folder: Path | None) -> float | None:
    """Size of the weight files (ONNX data, CTranslate2 model.bin, GGUF), in MB."""
    if folder is None:
        return None
    files = [p for p in Path(folder).iterdir() if p.suffix in (".data", ".bin", ".gguf", ".onnx", ".safetensors")]
    return sum(p.stat().st_size for p in files) / 2**20


def read_per_token_mb(folder: Path | None) -> float | None:
    """MB of weights one generated token reads: an ONNX graph's initializers but the tables only Gathered.

    A Gather reads one row of the token embedding per token, not the table (108 MB of fp32 in
    the onnxruntime-genai builds); every other weight is read whole. Other formats: the files.
    """
    if folder is None or not (Path(folder) / "model.onnx").exists():
        return weights_mb(folder)
    import numpy as np
    import onnx

    graph = onnx.load(str(Path(folder) / "model.onnx"), load_external_data=False).graph
    users: dict[str, set[str]] = {}
    for node in graph.node:
        for name in node.input:
            users.setdefault(name, set()).add(node.op_type)
    total = 0
    for tensor in graph.initializer:
        if users.get(tensor.name) == {"Gather"}:
            continue
        itemsize = np.dtype(onnx.helper.tensor_dtype_to_np_dtype(tensor.data_type)).itemsize
        total += int(np.prod(tensor.dims, dtype=np.int64)) * itemsize
    return total / 2**20


def leading_match(reference: str, text: str, tokenizer) -> int:
    """How many leading tokens of ``text`` equal ``reference``'s (both tokenized the same way)."""
    a = tokenizer(reference, add_special_tokens=False)["input_ids"]
    b = tokenizer(text, add_special_tokens=False)["input_ids"]
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    return n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-new-tokens", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--engines", default="transformers,onnxruntime-genai-int8,onnxruntime-genai-int4,"
                        "ctranslate2-int8,llama.cpp", help="comma-separated, the first is the baseline")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    import torch

    torch.set_num_threads(os.cpu_count() or 1)
    messages = [{"role": "user", "content": PROMPT}]
    load_before = os.getloadavg()
    makers: dict[str, Callable[[], tuple[Runner, Path | None]]] = {
        "transformers": lambda: tamellm_engine("transformers", messages),
        "onnxruntime-genai-int8": lambda: tamellm_engine("onnxruntime-genai", messages),
        "onnxruntime-genai-int4": lambda: genai_raw(messages, "int4"),
        # Variants of the default (64-weight blocks; 576 and 1536 divide by 64, not by 128 or 256, which
        # pad every row): the builder's 32-weight blocks, and one thread instead of one per core.
        "onnxruntime-genai-int8-block32": lambda: genai_raw(messages, "int8", ("block_size=32",)),
        "onnxruntime-genai-int8-1thread": lambda: genai_raw(messages, "int8", session={"intra_op_num_threads": 1}),
        "ctranslate2-int8": lambda: tamellm_engine("ctranslate2", messages),
        "llama.cpp": lambda: tamellm_engine("llama.cpp", messages),
    }
    wanted = [e.strip() for e in args.engines.split(",") if e.strip()]
    unknown = [e for e in wanted if e not in makers]
    if unknown:
        parser.error(f"unknown engine(s) {unknown}; accepted: {', '.join(makers)}")
    runners: dict[str, Runner] = {}
    info: dict[str, dict] = {}
    for name in wanted:
        if name == "llama.cpp" and not importlib.util.find_spec("llama_cpp"):
            log.warning("llama-cpp-python is not installed (make llama): the llama.cpp row is skipped")
            continue
        gc.collect()
        before = rss_mb()
        run, folder = makers[name]()
        run(8)  # warm-up: first-call allocations count as the engine's memory
        if name == "llama.cpp":
            from tamellm.models import resolve
            from tamellm.models.gguf_cache import gguf_file

            folder = gguf_file(resolve(MODEL)).parent
        info[name] = {"memory_added_mb": round(rss_mb() - before, 1), "weights_mb": weights_mb(folder),
                      "read_per_token_mb": read_per_token_mb(folder)}
        runners[name] = run
    speeds: dict[str, list[float]] = {n: [] for n in runners}
    ttft: dict[str, list[float]] = {n: [] for n in runners}
    texts: dict[str, tuple[int, str]] = {}
    for _ in range(args.repeats):
        for name, run in runners.items():
            tokens, text, seconds = run(args.max_new_tokens)
            speeds[name].append(tokens / seconds)
            texts[name] = (tokens, text)
            ttft[name].append(run(1)[2])
    from transformers import AutoTokenizer

    from tamellm.models import resolve
    from tamellm.tasks.ort_genai import source_folder

    tokenizer = AutoTokenizer.from_pretrained(source_folder(resolve(MODEL)))
    bandwidth = copy_bandwidth_gbs()
    load_after = os.getloadavg()
    baseline = wanted[0]
    rows = []
    for name in runners:
        median = statistics.median(speeds[name])
        weights, read = info[name]["weights_mb"], info[name]["read_per_token_mb"]
        bound = bandwidth * 1e9 / (read * 2**20) if read else None
        rows.append({
            "engine": name,
            "tokens_per_s": round(median, 1),
            "min": round(min(speeds[name]), 1), "max": round(max(speeds[name]), 1),
            "x_baseline": round(median / statistics.median(speeds[baseline]), 2) if baseline in speeds else None,
            "ttft_ms": round(1000 * statistics.median(ttft[name]), 1),
            "memory_added_mb": info[name]["memory_added_mb"],
            "weights_mb": round(weights, 1) if weights else None,
            "read_per_token_mb": round(read, 1) if read else None,
            "bandwidth_bound_tok_s": round(bound, 0) if bound else None,
            "pct_of_bound": round(100 * median / bound, 1) if bound else None,
            "new_tokens": texts[name][0],
            "greedy_tokens_matching_baseline": leading_match(texts[baseline][1], texts[name][1], tokenizer)
            if baseline in texts else None,
            "text_start": texts[name][1][:70].replace("\n", " ").replace("|", "/"),
        })
        log.info("%s: %.1f tok/s", name, median)
    summary = {"model": MODEL, "prompt": PROMPT, "max_new_tokens": args.max_new_tokens, "repeats": args.repeats,
               "greedy": True, "cpu_count": os.cpu_count(), "copy_bandwidth_gbs": round(bandwidth, 1),
               "loadavg_before": load_before, "loadavg_after": load_after, "rows": rows,
               "not_run": [e for e in wanted if e not in runners]}
    md = write_results("generation_engines", summary, rows)
    print(md.read_text())


if __name__ == "__main__":
    main()
