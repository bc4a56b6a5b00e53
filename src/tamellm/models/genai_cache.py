"""Build a chat model's ONNX Runtime GenAI copy once (int8 weights) and keep it under ``$TAMELLM_HOME/genai``.

The source is a safetensors folder of a Llama/Qwen/Mistral-architecture causal LM (a
GGUF model's converted copy, or a fine-tuned folder). onnxruntime-genai's own model
builder writes the ONNX graph with its fused CPU kernels (grouped-query attention,
MatMulNBits int8 weights, a KV cache shared in place). It is run as a subprocess, its
documented interface, so that its memory (~1 GB while exporting) is returned at once.
The entry is keyed by the source folder and its weight files' content fingerprints, written
to a temporary sibling and renamed: a crash leaves no half entry.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from tamellm.errors import MissingExtraError, ModelFormatError
from tamellm.paths import cache_dir, file_fingerprint

log = logging.getLogger(__name__)

GENAI_CONFIG = "genai_config.json"
SOURCE_CONFIG = "source_config.json"  # the source model's config.json, beside the engine's files
PRECISION = "int8"  # int4 re-quantizes already-quantized GGUF weights and loses the answer's wording (bench)
# prune_lm_head: the prompt's pass computes logits for its last position only (a faster first token).
# int8 blocks are asymmetric (uint8 + zero point): symmetric int8 turned SmolLM2's "The capital of France
# is Paris." into "L'Étoile, la Cité, ..." (GGUF Q4_1 weights are asymmetric themselves). The builder
# cannot write asymmetric int4 (its embedding graph then fails to load), so int4 stays symmetric.
# block_size=64: half the scales and zero points of the default 32 (hidden sizes are multiples of 64;
# 128 and 256 would pad SmolLM2's 576-wide rows). SmolLM2, 128 greedy tokens, same run: 83.9 tokens/s
# against 70.4 with 32-weight blocks, 43 leading tokens equal to transformers' against 44
# (bench/results/generation_engines.md).
BUILD_OPTIONS = {"int8": ("is_symmetric=false", "prune_lm_head=true", "block_size=64")}
DEFAULT_OPTIONS = ("prune_lm_head=true",)
# Architectures the builder exports and that tamellm checks (config.json "architectures").
SUPPORTED_ARCHITECTURES = frozenset({
    "LlamaForCausalLM", "MistralForCausalLM", "Qwen2ForCausalLM", "Qwen3ForCausalLM",
})
BUILD_TIMEOUT_S = 1800
GENAI_INSTALL_HINT = "pip install onnxruntime-genai (a prebuilt wheel; tamellm's default install has it)"


def architecture(folder: Path) -> str | None:
    """The first architecture named in ``folder``'s config.json, or None."""
    try:
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    names = config.get("architectures") or []
    return names[0] if names else None


def supported(folder: Path) -> bool:
    """Whether ``folder`` holds a causal LM the builder can export (checked without loading it)."""
    return architecture(folder) in SUPPORTED_ARCHITECTURES and any(folder.glob("*.safetensors"))


def build_options(precision: str, options: tuple[str, ...] | None = None) -> tuple[str, ...]:
    """The builder's ``--extra_options`` for ``precision``: tamellm's own unless ``options`` are given."""
    return tuple(options) if options is not None else BUILD_OPTIONS.get(precision, DEFAULT_OPTIONS)


def genai_folder(source: Path, precision: str = PRECISION, options: tuple[str, ...] | None = None) -> Path:
    """The cache folder of ``source``'s GenAI copy (it may not exist yet)."""
    weights = sorted(source.glob("*.safetensors"))
    stamp = "|".join([str(source.resolve()), precision, *build_options(precision, options)]
                     + [f"{p.name}:{file_fingerprint(p)}" for p in weights])
    return cache_dir("genai") / f"{source.name}-{precision}-{hashlib.sha256(stamp.encode()).hexdigest()[:12]}"


def ensure_genai(source: Path, precision: str = PRECISION, options: tuple[str, ...] | None = None) -> Path:
    """Return the GenAI folder of ``source`` (a safetensors causal LM folder), building it on first use.

    ``options`` replace tamellm's builder options (the benchmark compares variants with them).
    """
    target = genai_folder(source, precision, options)
    if (target / GENAI_CONFIG).exists():
        return target
    try:
        import onnxruntime_genai  # noqa: F401 - only to fail early with a clear message
    except ImportError:
        raise MissingExtraError("The onnxruntime-genai engine needs the onnxruntime-genai package",
                                GENAI_INSTALL_HINT) from None
    if not supported(source):
        raise ModelFormatError(f"{source} holds a {architecture(source) or 'unknown'} model; the onnxruntime-genai "
                               "engine builds Llama/Qwen/Mistral causal LMs", "use backend='transformers'")
    log.info("Building the onnxruntime-genai %s copy of %s in %s (once, ~30 s)", precision, source, target)
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=target.parent))
    work = Path(tempfile.mkdtemp(prefix=".work-", dir=target.parent))
    command = [sys.executable, "-m", "onnxruntime_genai.models.builder", "-i", str(source), "-o", str(tmp),
               "-p", precision, "-e", "cpu", "-c", str(work), "--extra_options", *build_options(precision, options)]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    try:
        done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=BUILD_TIMEOUT_S,
                              check=False)
        if done.returncode != 0 or not (tmp / GENAI_CONFIG).exists():
            tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
            raise ModelFormatError(f"onnxruntime-genai could not build {source}: {' | '.join(tail)}",
                                   "use backend='transformers'")
        # The model's eos ids and context size, read without torch (the engine keeps its own config.json).
        for extra, name in (("generation_config.json", "generation_config.json"), ("config.json", SOURCE_CONFIG)):
            if (source / extra).exists() and not (tmp / name).exists():
                shutil.copy2(source / extra, tmp / name)
        try:
            tmp.rename(target)
        except OSError:  # another process built it meanwhile: keep theirs
            if not (target / GENAI_CONFIG).exists():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)
    return target
