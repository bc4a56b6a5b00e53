"""onnxruntime-genai: the default generation engine for Llama/Qwen/Mistral-architecture chat models on CPU.

A prebuilt wheel (no compiler), int8 weights built once from the model's safetensors
folder (``models/genai_cache.py``). Measured on SmolLM2-135M here (bench/generation_engines.py):
several times transformers' tokens/s, and ahead of CTranslate2 int8. The prompt is
built by the model's own tokenizer and chat template, as on the transformers path, and
every token goes through the same stop-sequence, cancellation and decoding code
(``Generator``'s), so the backends answer alike. ``.model`` is still the torch model
(read lazily on first use): explanations and perplexity need logits and gradients.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tamellm.errors import TamellmError
from tamellm.models.genai_cache import ensure_genai, supported
from tamellm.models.loaders import LoadedModel, prepare_transformers
from tamellm.models.resolve import ResolvedModel
from tamellm.results import Generation
from tamellm.tasks.backends import AUTO_BACKENDS, BACKENDS, BackendNotApplicable
from tamellm.tasks.generate import MIN_TEMPERATURE, Generator, Message, Stop, StopText

log = logging.getLogger(__name__)
NAME = "onnxruntime-genai"
REPLACEMENT = "\ufffd"  # what decoding shows for a character whose bytes are not all generated yet
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


class GenaiGenerator(Generator):
    """Chat, generate, stream and summarize through onnxruntime-genai (greedy unless temperature > 0)."""

    def __init__(self, loaded: LoadedModel, folder: Path) -> None:
        self.loaded = loaded
        self.engine = loaded.model
        self.tokenizer = loaded.tokenizer
        self.folder = folder
        self._config = json.loads((folder / "genai_config.json").read_text(encoding="utf-8"))

    @property
    def model(self) -> Any:
        """The torch model of the same weights (read on first use, for explanations and perplexity)."""
        from tamellm.tasks.loading import read_weights

        return read_weights(self.loaded.resolved).model

    def info(self) -> dict:
        """What this model is, with the backend."""
        return {**super().info(), "backend": NAME, "engine_folder": str(self.folder)}

    def _context_size(self) -> int | None:
        size = self._config["model"].get("context_length")
        return size if isinstance(size, int) and size > 0 else None

    def _eos_ids(self) -> set[int]:
        ids = {self.tokenizer.eos_token_id}
        config_eos = self._config["model"].get("eos_token_id")
        ids.update(config_eos if isinstance(config_eos, list | tuple) else [config_eos])
        generation = self.folder / "generation_config.json"
        if generation.exists():
            eos = json.loads(generation.read_text(encoding="utf-8")).get("eos_token_id")
            ids.update(eos if isinstance(eos, list | tuple) else [eos])
        return {i for i in ids if i is not None}

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

    def _run(self, messages: list[Message], max_new_tokens: int, temperature: float, top_p: float,
             seed: int | None, stop: Stop, cancel: threading.Event | None) -> tuple[Iterator[str], dict]:
        """The shown text pieces (cut at stop sequences) and the run's state: tokens, finish reason.

        Bad input raises here, before the first piece is asked for.
        """
        cut = StopText(stop)
        inputs, max_new_tokens = self._prepare(messages, max_new_tokens)
        prompt = [int(i) for i in inputs["input_ids"][0]]
        state = {"tokens": 0, "finish": "stop"}

        def pieces() -> Iterator[str]:
            ids: list[int] = []
            decoded = ""
            for token in self._token_ids(prompt, max_new_tokens, temperature, top_p, seed):
                ids.append(token)
                state["tokens"] = len(ids)
                # Decoding the whole answer each step keeps multi-token characters and spaces right.
                text = self.tokenizer.decode(ids, skip_special_tokens=True)
                if not text.endswith(REPLACEMENT) and len(text) > len(decoded):
                    shown = cut.feed(text[len(decoded):])
                    decoded = text
                    if shown:
                        yield shown
                if cut.stopped or (cancel is not None and cancel.is_set()):
                    break
            else:
                state["finish"] = "length" if len(ids) >= max_new_tokens else "stop"
            if cut.stopped:
                state["finish"] = "stop"
            elif cancel is not None and cancel.is_set():
                state["finish"] = "length"  # cut short, like an answer that ran out of tokens
            tail = cut.feed(self.tokenizer.decode(ids, skip_special_tokens=True)[len(decoded):]) + cut.flush()
            if tail:
                yield tail

        return pieces(), state

    def chat(self, messages: list[Message], max_new_tokens: int = 256, temperature: float = 0.0,
             top_p: float = 0.95, seed: int | None = None, cancel: threading.Event | None = None,
             stop: Stop = None) -> Generation:
        """Answer the last user message of a chat history; setting ``cancel`` stops it at the next token."""
        start = time.perf_counter()
        pieces, state = self._run(messages, max_new_tokens, temperature, top_p, seed, stop, cancel)
        text = "".join(pieces)
        return Generation(text.strip(), messages[-1]["content"], state["tokens"],
                          time.perf_counter() - start, state["finish"])

    def stream(self, messages: list[Message], max_new_tokens: int = 256, temperature: float = 0.0,
               top_p: float = 0.95, seed: int | None = None, stop: Stop = None) -> Iterator[str]:
        """Yield the answer piece by piece; bad input raises here, not at the first ``next()``.

        Closing the iterator early (a client that hangs up) stops the generation at once.
        """
        pieces, _ = self._run(messages, max_new_tokens, temperature, top_p, seed, stop, None)
        return pieces
