"""CTranslate2: a prebuilt-wheel generation engine for Llama/Qwen/Mistral-architecture chat models on CPU.

int8 weights converted once from the model's safetensors folder (``models/ct2_cache.py``);
the token loop, stop sequences and cancellation are ``EngineGenerator``'s, shared with the
other engines. ``backend="ctranslate2"``; ctranslate2 comes with faster-whisper (speech extra).
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator

from tamellm.errors import TamellmError
from tamellm.models.ct2_cache import ensure_ct2
from tamellm.models.loaders import LoadedModel, prepare_transformers
from tamellm.models.resolve import ResolvedModel
from tamellm.tasks.backends import BACKENDS, BackendNotApplicable
from tamellm.tasks.engine_generator import EngineGenerator
from tamellm.tasks.generate import MIN_TEMPERATURE
from tamellm.tasks.ort_genai import source_folder

log = logging.getLogger(__name__)
NAME = "ctranslate2"
_SEED_LOCK = threading.Lock()  # ctranslate2's random seed is process-wide


@BACKENDS.register(NAME)
def load_for(resolved: ResolvedModel, task: str, explicit: bool) -> Ct2Generator | None:
    """The backends registry's entry: chat models of a supported architecture; None (or an error) otherwise."""
    source = source_folder(resolved) if task == "generate" else None
    if source is None:
        if explicit:
            raise BackendNotApplicable(f"The {NAME} backend runs Llama/Qwen/Mistral-architecture chat models; "
                                       f"'{resolved.name}' is a {resolved.kind} model for task '{task}'",
                                       "use backend='transformers' for this model")
        return None
    try:
        import ctranslate2
        from transformers import AutoTokenizer

        folder = ensure_ct2(source)
        prepare_transformers()
        engine = ctranslate2.Generator(str(folder), device="cpu", compute_type="int8",
                                       intra_threads=os.cpu_count() or 1)
        return Ct2Generator(LoadedModel(resolved, engine, AutoTokenizer.from_pretrained(source)), folder)
    except TamellmError as exc:
        if explicit:
            raise
        log.warning("model %s stays on transformers: %s", resolved.name, exc)
        return None


class Ct2Generator(EngineGenerator):
    """Chat, generate, stream and summarize through CTranslate2 (greedy unless temperature > 0)."""

    backend = NAME

    def _token_ids(self, prompt: list[int], max_new_tokens: int, temperature: float, top_p: float,
                   seed: int | None) -> Iterator[int]:
        eos = self._eos_ids()
        options = {"max_length": max_new_tokens, "end_token": sorted(eos)}
        if temperature >= MIN_TEMPERATURE:  # as on the transformers path: below it the answer is greedy
            options.update(sampling_topk=0, sampling_topp=float(top_p), sampling_temperature=float(temperature))
            with _SEED_LOCK:
                import ctranslate2

                ctranslate2.set_random_seed(0 if seed is None else int(seed))
        else:
            options.update(sampling_topk=1)
        steps = self.engine.generate_tokens(self.tokenizer.convert_ids_to_tokens(prompt), **options)
        try:
            for step in steps:
                if step.token_id in eos:
                    return
                yield int(step.token_id)
        finally:
            steps.close()  # stops the decoding when the caller stops reading
