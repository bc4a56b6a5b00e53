"""Measured profiles of the catalog's encoders as classifiers on this machine, cached under the tamellm home.

Each profile: median single-text latency, batch throughput, the process memory the
weights take, the weights' size on disk, for the model as trained (fp32) and after
dynamic int8 quantization (the compression every classifier can get without data).
Measured once per (model, torch version, CPU count) and kept in
``$TAMELLM_HOME/advice/profiles.json``; ``refresh=True`` measures again.
"""

from __future__ import annotations

import json
import logging
import os
import statistics
import time
from pathlib import Path

from tamellm.paths import cache_dir

logger = logging.getLogger(__name__)
ENCODERS = ("minilm-l6", "multilingual-e5-small", "all-mpnet-base-v2")
COMPRESSIONS = ("none", "dynamic-int8")
SAMPLE = ("the battery lasts all day and the screen is sharp", "delivery was late and nobody answered my emails",
          "an ordinary film with one great scene", "I want to change the address on my account")


def _key(model: str, compression: str, labels: int) -> str:
    import torch

    return f"{model}|{compression}|{labels}|torch {torch.__version__}|{os.cpu_count()} cpus"


def _measure(model_name: str, compression: str, labels: int, repeats: int = 15) -> dict:
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from tamellm.models.gguf_cache import weights_folder
    from tamellm.models.resolve import resolve

    folder = weights_folder(resolve(model_name))
    tokenizer = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForSequenceClassification.from_pretrained(folder, num_labels=labels).eval()
    if compression == "dynamic-int8":
        model = torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)
    state = model.state_dict()
    size = sum(v.numel() * v.element_size() for v in state.values() if hasattr(v, "numel"))
    one, batch = tokenizer(SAMPLE[0], return_tensors="pt"), tokenizer(list(SAMPLE) * 8, padding=True,
                                                                       return_tensors="pt")
    times = []
    with torch.inference_mode():
        model(**one)
        for _ in range(repeats):
            start = time.perf_counter()
            model(**one)
            times.append(time.perf_counter() - start)
        start = time.perf_counter()
        for _ in range(3):
            model(**batch)
        throughput = 3 * len(SAMPLE) * 8 / (time.perf_counter() - start)
    files = sum(p.stat().st_size for p in Path(folder).glob("*.safetensors"))
    return {"model": model_name, "compression": compression, "labels": labels,
            "latency_ms": round(1000 * statistics.median(times), 2), "throughput_per_s": round(throughput, 1),
            "latency_min_ms": round(1000 * min(times), 2), "latency_max_ms": round(1000 * max(times), 2),
            # the saved folder holds what the process holds: int8 weights are saved as int8
            "memory_mb": round(size / 2**20, 1),
            "disk_mb": round((files if compression == "none" else size) / 2**20, 1),
            "load_average": round(os.getloadavg()[0], 2), "measured": time.strftime("%Y-%m-%d %H:%M")}


def profiles_path() -> Path:
    """Where the measured profiles are cached."""
    return cache_dir("advice") / "profiles.json"


def measured_profiles(labels: int = 2, refresh: bool = False, models: tuple[str, ...] = ENCODERS) -> list[dict]:
    """A profile per (encoder that is installed, compression), measured now or read from the cache."""
    from tamellm.errors import TamellmError

    path = profiles_path()
    cache = json.loads(path.read_text(encoding="utf-8")) if path.is_file() and not refresh else {}
    out, changed = [], False
    for model in models:
        for compression in COMPRESSIONS:
            key = _key(model, compression, labels)
            if key not in cache:
                try:
                    logger.info("measuring %s (%s) on this machine, once", model, compression)
                    cache[key] = _measure(model, compression, labels)
                except (TamellmError, OSError, ImportError) as exc:
                    logger.info("%s is not available here (%s): not a candidate", model, exc)
                    break
                changed = True
            out.append(cache[key])
    if changed:
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(cache, indent=2), encoding="utf-8")
        tmp.replace(path)
    return out
