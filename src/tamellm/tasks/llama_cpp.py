"""llama.cpp as the fast generation backend for GGUF chat models on CPU (optional).

The transformers path (a GGUF dequantized once to safetensors) stays the default and is
what training and explanations use. ``tamellm.load(model, backend="llama.cpp")`` (or
``TAMELLM_GENERATION_BACKEND=llama.cpp``) runs the GGUF file itself through
``llama-cpp-python`` instead: the quantized weights are used as they are, with
llama.cpp's CPU kernels (several times faster decoding here). Needs
``llama-cpp-python`` (it builds from source on Linux): ``make llama`` in a checkout.
"""

from __future__ import annotations

import atexit
import os
import threading
import time
from collections.abc import Iterator
from typing import Any

from tamellm.errors import InputError, MissingExtraError
from tamellm.models.gguf_cache import gguf_file
from tamellm.models.loaders import LoadedModel
from tamellm.models.resolve import ResolvedModel
from tamellm.results import Generation
from tamellm.tasks.backends import BACKENDS, BackendNotApplicable
from tamellm.tasks.generate import MIN_TEMPERATURE, Generator, Message, Stop, check_messages, stop_list

LLAMA_INSTALL_HINT = (
    "in a checkout: make llama; elsewhere: CMAKE_ARGS='-DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON "
    "-DGGML_F16C=ON' pip install 'tamellm[llama]' (builds from source, ~10 min)"
)


def load_llama(resolved: ResolvedModel, n_ctx: int = 4096) -> LlamaCppGenerator:
    """A llama.cpp generator for a GGUF model (``tasks.load`` caches it)."""
    try:
        from llama_cpp import Llama
    except ImportError:
        raise MissingExtraError("The llama.cpp backend needs llama-cpp-python",
                                LLAMA_INSTALL_HINT) from None
    path = gguf_file(resolved)
    threads = max(1, os.cpu_count() or 1)
    llama = Llama(model_path=str(path), n_ctx=n_ctx, n_threads=threads, n_threads_batch=threads, seed=0,
                  verbose=False)
    # Freed at exit by us: llama-cpp-python's own finalizer fails during interpreter shutdown.
    atexit.register(llama.close)
    return LlamaCppGenerator(LoadedModel(resolved, llama, None))


@BACKENDS.register("llama.cpp")
def load_for(resolved: ResolvedModel, task: str, explicit: bool) -> LlamaCppGenerator | None:
    """The llama.cpp generator for a GGUF generation model (the backends registry's entry).

    An explicit ``backend="llama.cpp"`` on a model it cannot run is an error; the
    environment variable only applies where it can.
    """
    if task != "generate" or resolved.kind != "gguf":
        if explicit:
            raise BackendNotApplicable(f"The llama.cpp backend runs GGUF generation models; '{resolved.name}' is a "
                             f"{resolved.kind} model for task '{task}'", "drop backend= for this model")
        return None
    return load_llama(resolved)


class LlamaCppGenerator(Generator):
    """Chat, generate, stream and summarize through llama.cpp (greedy unless temperature > 0)."""

    def info(self) -> dict:
        """What this model is, with the backend."""
        return {**super().info(), "backend": "llama.cpp"}

    def _options(self, max_new_tokens: int, temperature: float, top_p: float, seed: int | None,
                 stop: Stop = None) -> dict[str, Any]:
        if isinstance(max_new_tokens, bool) or not isinstance(max_new_tokens, int) or max_new_tokens < 1:
            raise InputError(f"max_new_tokens must be a whole number of at least 1, got {max_new_tokens!r}")
        greedy = temperature < MIN_TEMPERATURE  # as on the transformers path
        return {"max_tokens": max_new_tokens, "temperature": 0.0 if greedy else temperature,
                "top_p": 1.0 if greedy else top_p, "top_k": 1 if greedy else 40,
                "seed": 0 if seed is None else seed, "stop": stop_list(stop) or None}

    def chat(self, messages: list[Message], max_new_tokens: int = 256, temperature: float = 0.0,
             top_p: float = 0.95, seed: int | None = None, cancel: threading.Event | None = None,
             stop: Stop = None) -> Generation:
        """Answer the last user message of a chat history; setting ``cancel`` stops it at the next token."""
        messages = check_messages(messages)
        start = time.perf_counter()
        if cancel is not None:
            pieces = []
            for piece in self.stream(messages, max_new_tokens, temperature, top_p, seed, stop):
                pieces.append(piece)
                if cancel.is_set():
                    break
            text = "".join(pieces)
            tokens = len(self.model.tokenize(text.encode(), add_bos=False)) if text else 0
            finish = "length" if tokens >= max_new_tokens or cancel.is_set() else "stop"
            return Generation(text.strip(), messages[-1]["content"], tokens, time.perf_counter() - start, finish)
        options = self._options(max_new_tokens, temperature, top_p, seed, stop)
        try:
            out = self.model.create_chat_completion(messages=messages, **options)
        except ValueError as exc:  # llama.cpp: prompt longer than the context
            raise InputError(f"llama.cpp refused the prompt: {exc}", "shorten the prompt or the chat history") from None
        choice = out["choices"][0]
        finish = "length" if choice.get("finish_reason") == "length" else "stop"
        return Generation(choice["message"]["content"].strip(), messages[-1]["content"],
                          int(out["usage"]["completion_tokens"]), time.perf_counter() - start, finish)

    def stream(self, messages: list[Message], max_new_tokens: int = 256, temperature: float = 0.0,
               top_p: float = 0.95, seed: int | None = None, stop: Stop = None) -> Iterator[str]:
        """Yield the answer piece by piece; bad input raises here, not at the first ``next()``."""
        messages = check_messages(messages)
        chunks = self.model.create_chat_completion(messages=messages, stream=True,
                                                   **self._options(max_new_tokens, temperature, top_p, seed, stop))

        def pieces() -> Iterator[str]:
            for chunk in chunks:
                text = chunk["choices"][0].get("delta", {}).get("content")
                if text:
                    yield text

        return pieces()
