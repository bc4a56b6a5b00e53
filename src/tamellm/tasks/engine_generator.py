"""What the compiled generation engines share: one token loop with stop sequences, cancellation and decoding.

A backend that runs a chat model on its own engine (onnxruntime-genai, CTranslate2)
subclasses ``EngineGenerator`` and gives ``_token_ids`` (the new token ids, one by one);
the prompt comes from the model's own tokenizer and chat template as on the transformers
path, and text, stop sequences (``StopText``), cancellation and finish reasons are handled
here once, so the engines answer alike. ``.model`` is still the torch model, read lazily
on first use: explanations and perplexity need logits and gradients.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

from tamellm.models.genai_cache import SOURCE_CONFIG
from tamellm.models.loaders import LoadedModel
from tamellm.results import Generation
from tamellm.tasks.generate import Generator, Message, Stop, StopText

REPLACEMENT = "\ufffd"  # what decoding shows for a character whose bytes are not all generated yet


def _ids(value: Any) -> list[int]:
    return [int(v) for v in (value if isinstance(value, list | tuple) else [value]) if v is not None]


class EngineGenerator(Generator):
    """A ``Generator`` whose tokens come from a compiled engine (``engine``) built into ``folder``."""

    backend: ClassVar[str] = ""

    def __init__(self, loaded: LoadedModel, folder: Path) -> None:
        self.loaded = loaded
        self.engine = loaded.model
        self.tokenizer = loaded.tokenizer
        self.folder = folder
        config = folder / SOURCE_CONFIG
        self._hf_config = json.loads(config.read_text(encoding="utf-8")) if config.exists() else {}

    @property
    def model(self) -> Any:
        """The torch model of the same weights (read on first use, for explanations and perplexity)."""
        from tamellm.tasks.loading import read_weights

        return read_weights(self.loaded.resolved).model

    def info(self) -> dict:
        """What this model is, with the backend and where its engine copy is."""
        return {**super().info(), "backend": self.backend, "engine_folder": str(self.folder)}

    def _context_size(self) -> int | None:
        size = self._hf_config.get("max_position_embeddings")
        return size if isinstance(size, int) and size > 0 else None

    def _eos_ids(self) -> set[int]:
        ids = set(_ids(self.tokenizer.eos_token_id)) | set(_ids(self._hf_config.get("eos_token_id")))
        generation = self.folder / "generation_config.json"
        if generation.exists():
            ids.update(_ids(json.loads(generation.read_text(encoding="utf-8")).get("eos_token_id")))
        return ids

    def _token_ids(self, prompt: list[int], max_new_tokens: int, temperature: float, top_p: float,
                   seed: int | None) -> Iterator[int]:
        """The new token ids one by one, up to an end token (not yielded) or ``max_new_tokens``."""
        raise NotImplementedError

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
