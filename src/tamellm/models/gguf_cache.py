"""Convert a GGUF checkpoint once into a safetensors folder under ``$TAMELLM_HOME``.

Dequantizing GGUF through transformers takes ~20 s; the converted copy reloads in ~1 s.
The cache key holds the file's name and content fingerprint, so a changed file converts again
and a reinstalled one does not.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from tamellm.errors import ModelFormatError
from tamellm.paths import cache_dir, file_fingerprint

if TYPE_CHECKING:
    from tamellm.models.resolve import ResolvedModel

log = logging.getLogger(__name__)


def converted_folder(gguf_file: Path) -> Path:
    """The cache folder for one GGUF file (it may not exist yet)."""
    return cache_dir("converted") / f"{gguf_file.stem}-{file_fingerprint(gguf_file)}"


def ensure_converted(gguf_file: Path) -> Path:
    """Return a safetensors folder for ``gguf_file``, converting it on first use."""
    target = converted_folder(gguf_file)
    if (target / "config.json").exists() and any(target.glob("*.safetensors")):
        return target
    from transformers import AutoModelForCausalLM, AutoTokenizer

    log.info("Converting %s to safetensors in %s (once, ~20 s)", gguf_file.name, target)
    model = AutoModelForCausalLM.from_pretrained(gguf_file.parent, gguf_file=gguf_file.name)
    tokenizer = AutoTokenizer.from_pretrained(gguf_file.parent, gguf_file=gguf_file.name)
    # The dequantized weights are plain fp32: the GGUF quantization config no longer applies.
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    model.hf_quantizer = None
    model.is_quantized = False
    # Written to a temporary sibling, then renamed: no half-written cache entry survives a crash.
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=target.parent))
    tmp.chmod(0o755)
    try:
        model.save_pretrained(tmp, safe_serialization=True)
        tokenizer.save_pretrained(tmp)
        if target.exists():
            shutil.rmtree(target)
        tmp.rename(target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def gguf_file(resolved: ResolvedModel) -> Path:
    """The GGUF file a resolved model runs: the catalog's named file, else the folder's first ``*.gguf``."""
    name = resolved.spec.file if resolved.spec and resolved.spec.file else None
    files = [resolved.path / name] if name else sorted(resolved.path.glob("*.gguf"))
    if not files or not files[0].exists():
        raise ModelFormatError(f"No GGUF file found in {resolved.path}", "expected a *.gguf file")
    return files[0]


def converted_model(resolved: ResolvedModel) -> Path:
    """The safetensors folder of a GGUF model (converted once, then read from the cache)."""
    return ensure_converted(gguf_file(resolved))


def weights_folder(resolved: ResolvedModel) -> Path:
    """The safetensors folder to fine-tune or rebuild from: a GGUF model's converted copy, else its own folder."""
    return converted_model(resolved) if resolved.kind == "gguf" else resolved.path
