"""onnxruntime-genai: a prebuilt-wheel generation engine for Llama/Qwen/Mistral-architecture chat models on CPU.

int8 weights built once from the model's safetensors folder (``models/genai_cache.py``);
the token loop, stop sequences and cancellation are ``EngineGenerator``'s, shared with the
other engines. ``backend="onnxruntime-genai"``; part of the default (``AUTO_BACKENDS``).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tamellm.errors import TamellmError
from tamellm.models.genai_cache import ensure_genai, supported
from tamellm.models.loaders import LoadedModel, prepare_transformers
from tamellm.models.resolve import ResolvedModel
from tamellm.tasks.backends import AUTO_BACKENDS, BACKENDS, BackendNotApplicable
from tamellm.tasks.engine_generator import EngineGenerator
from tamellm.tasks.generate import MIN_TEMPERATURE

log = logging.getLogger(__name__)
NAME = "onnxruntime-genai"
_FAILED: dict[str, str] = {}  # source folder -> why its build failed (not retried in this process)


def source_folder(resolved: ResolvedModel) -> Path | None:
    """The safetensors folder the engine is built from, or None when this model is not for it."""
    if resolved.task != "generate" or resolved.kind not in ("gguf", "transformers"):
        return None
    if resolved.kind == "gguf":
        from tamellm.models.gguf_cache import converted_model

        return converted_model(resolved)
    return resolved.path if supported(resolved.path) else None


def load_genai(resolved: ResolvedModel, source: Path) -> GenaiGenerator:
    """The engine for ``resolved`` (built from ``source`` once, then read from the cache)."""
    import onnxruntime_genai as og
    from transformers import AutoTokenizer

    folder = ensure_genai(source)
    prepare_transformers()
    tokenizer = AutoTokenizer.from_pretrained(source)
    return GenaiGenerator(LoadedModel(resolved, og.Model(str(folder)), tokenizer), folder)


@BACKENDS.register(NAME)
def load_for(resolved: ResolvedModel, task: str, explicit: bool) -> GenaiGenerator | None:
    """The backends registry's entry: chat models of a supported architecture; None (or an error) otherwise."""
    source = source_folder(resolved) if task == "generate" else None
    if source is None or not supported(source):
        if explicit:
            raise BackendNotApplicable(f"The {NAME} backend runs Llama/Qwen/Mistral-architecture chat models; "
                                       f"'{resolved.name}' is a {resolved.kind} model for task '{task}'",
                                       "use backend='transformers' for this model")
        return None
    if not explicit and str(source) in _FAILED:
        return None
    try:
        return load_genai(resolved, source)
    except TamellmError as exc:
        if explicit:
            raise
        # The default engine is an accelerator: a model it cannot build still answers, on transformers.
        _FAILED[str(source)] = str(exc)
        log.warning("model %s stays on transformers: %s", resolved.name, exc)
        return None


AUTO_BACKENDS.append(NAME)


class GenaiGenerator(EngineGenerator):
    """Chat, generate, stream and summarize through onnxruntime-genai (greedy unless temperature > 0)."""

    backend = NAME

    def _context_size(self) -> int | None:
        config = json.loads((self.folder / "genai_config.json").read_text(encoding="utf-8"))
        size = config["model"].get("context_length")
        return size if isinstance(size, int) and size > 0 else super()._context_size()

    def _token_ids(self, prompt: list[int], max_new_tokens: int, temperature: float, top_p: float,
                   seed: int | None) -> Iterator[int]:
        """The new token ids one by one, up to an end token (not yielded) or ``max_new_tokens``."""
        import onnxruntime_genai as og

        params = og.GeneratorParams(self.engine)
        search: dict[str, Any] = {"max_length": len(prompt) + max_new_tokens}
        if temperature >= MIN_TEMPERATURE:  # as on the transformers path: below it the answer is greedy
            search.update(do_sample=True, temperature=float(temperature), top_p=float(top_p), top_k=0,
                          random_seed=0 if seed is None else int(seed))
        else:
            search.update(do_sample=False)
        params.set_search_options(**search)
        generator = og.Generator(self.engine, params)
        generator.append_tokens(prompt)
        eos = self._eos_ids()
        for _ in range(max_new_tokens):
            if generator.is_done():
                return
            generator.generate_next_token()
            token = int(generator.get_next_tokens()[0])
            if token in eos:
                return
            yield token

