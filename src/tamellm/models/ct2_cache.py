"""Convert a chat model once to CTranslate2 (int8 weights) and keep it under ``$TAMELLM_HOME/ct2``.

The source is a safetensors folder of a Llama/Qwen/Mistral-architecture causal LM (a GGUF
model's converted copy, or a fine-tuned folder); CTranslate2's own converter reads it
(~10-30 s). The entry is keyed by the source folder and its weight files' content
fingerprints, written to a temporary sibling and renamed: a crash leaves no half entry.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import tempfile
from pathlib import Path

from tamellm.errors import MissingExtraError, ModelFormatError
from tamellm.models.genai_cache import SOURCE_CONFIG, architecture, supported
from tamellm.paths import cache_dir, file_fingerprint

log = logging.getLogger(__name__)
QUANTIZATION = "int8"
CT2_INSTALL_HINT = "pip install ctranslate2 (a prebuilt wheel; tamellm's speech extra has it)"


def ct2_folder(source: Path, quantization: str = QUANTIZATION) -> Path:
    """The cache folder of ``source``'s CTranslate2 copy (it may not exist yet)."""
    weights = sorted(source.glob("*.safetensors"))
    stamp = "|".join([str(source.resolve()), quantization]
                     + [f"{p.name}:{file_fingerprint(p)}" for p in weights])
    return cache_dir("ct2") / f"{source.name}-{quantization}-{hashlib.sha256(stamp.encode()).hexdigest()[:12]}"


def ensure_ct2(source: Path, quantization: str = QUANTIZATION) -> Path:
    """Return the CTranslate2 folder of ``source``, converting it on first use."""
    target = ct2_folder(source, quantization)
    if (target / "model.bin").exists():
        return target
    try:
        from ctranslate2.converters import TransformersConverter
    except ImportError:
        raise MissingExtraError("The ctranslate2 engine needs the ctranslate2 package", CT2_INSTALL_HINT) from None
    if not supported(source):
        raise ModelFormatError(f"{source} holds a {architecture(source) or 'unknown'} model; the ctranslate2 "
                               "engine converts Llama/Qwen/Mistral causal LMs", "use backend='transformers'")
    log.info("Converting %s to CTranslate2 %s in %s (once, ~30 s)", source, quantization, target)
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=target.parent))
    try:
        try:
            TransformersConverter(str(source)).convert(str(tmp), quantization=quantization, force=True)
        except Exception as exc:  # noqa: BLE001 - any converter failure means: this model stays on transformers
            raise ModelFormatError(f"ctranslate2 could not convert {source}: {exc}",
                                   "use backend='transformers'") from exc
        # The model's eos ids and context size, read without torch (the engine keeps its own config.json).
        for extra, name in (("generation_config.json", "generation_config.json"), ("config.json", SOURCE_CONFIG)):
            if (source / extra).exists() and not (tmp / name).exists():
                shutil.copy2(source / extra, tmp / name)
        try:
            tmp.rename(target)
        except OSError:  # another process converted it meanwhile: keep theirs
            if not (target / "model.bin").exists():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target
