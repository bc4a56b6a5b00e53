"""Text generation and chat with a causal language model (SmolLM2 by default)."""

from __future__ import annotations

import numbers
import threading
import time
from collections.abc import Iterator

import torch

from tamellm.errors import InputError
from tamellm.inputs import as_text_list
from tamellm.results import Generation
from tamellm.tasks.base import TaskModel
from tamellm.tasks.spec import TaskSpec, register_task

# Sampling at a temperature of ~0 divides logits by ~0 (inf / NaN probabilities): below this the
# answer is greedy, which is what such a temperature asks for anyway.
MIN_TEMPERATURE = 1e-3


def cancel_criteria(cancel: threading.Event) -> object:
    """A transformers stopping criterion that ends ``generate`` once ``cancel`` is set."""
    from transformers import StoppingCriteria, StoppingCriteriaList

    class _Cancelled(StoppingCriteria):
        def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor, **kwargs) -> torch.Tensor:
            stop = cancel.is_set()
            return torch.full((input_ids.shape[0],), stop, dtype=torch.bool, device=input_ids.device)

    return StoppingCriteriaList([_Cancelled()])

Message = dict[str, str]
ROLES = ("system", "user", "assistant")
Stop = str | list[str] | tuple[str, ...] | None


def stop_list(stop: Stop) -> list[str]:
    """The stop sequences asked for, as a list (None -> none); anything but text is refused."""
    if stop is None:
        return []
    stops = [stop] if isinstance(stop, str) else stop
    if not isinstance(stops, list | tuple) or not all(isinstance(s, str) for s in stops):
        raise InputError(f"stop must be a string or a list of strings, got {stop!r}", "e.g. stop=['\\n\\n']")
    return [s for s in stops if s]


class StopText:
    """An answer growing piece by piece, cut before the first stop sequence (as OpenAI's ``stop`` does).

    ``feed`` returns the text that can be shown now: a tail that could be the start of a
    stop sequence is held back until the next piece says whether it is one. Every
    backend streams through this, so stop sequences behave the same on each.
    """

    def __init__(self, stop: Stop = None) -> None:
        self.stops = stop_list(stop)
        self.text = ""
        self.sent = 0
        self.stopped = False

    def feed(self, piece: str) -> str:
        """Add ``piece``; return what may be shown (empty once a stop sequence was met)."""
        if self.stopped:
            return ""
        self.text += piece
        found = [i for i in (self.text.find(s, max(0, self.sent - len(s))) for s in self.stops) if i >= 0]
        if found:
            self.stopped = True
            return self._send(min(found))
        hold = max((k for s in self.stops for k in range(1, len(s)) if self.text.endswith(s[:k])), default=0)
        return self._send(len(self.text) - hold)

    def flush(self) -> str:
        """The held-back tail, once the answer ended without a stop sequence."""
        return "" if self.stopped else self._send(len(self.text))

    def shown(self) -> str:
        """The answer as shown: cut before the stop sequence, if one was met."""
        return self.text[:self.sent] if self.stopped else self.text

    def _send(self, end: int) -> str:
        out = self.text[self.sent:end] if end > self.sent else ""
        self.sent = max(self.sent, end)
        return out

SUMMARY_PROMPT = (
    "Summarize the following text in at most {words} words. Reply with the summary only.\n\n{text}"
)


def check_messages(messages: list[Message]) -> list[Message]:
    """Validate a chat history: a list of {"role", "content"} with known roles."""
    if not messages:
        raise InputError("No messages given", "pass [{'role': 'user', 'content': '...'}]")
    for i, msg in enumerate(messages):
        if not isinstance(msg, dict) or "role" not in msg or "content" not in msg:
            raise InputError(f"Message #{i + 1} is not a {{'role', 'content'}} dict", f"got {msg!r}")
        if msg["role"] not in ROLES:
            raise InputError(f"Message #{i + 1} has role '{msg['role']}'",
                             f"accepted roles: {', '.join(ROLES)}")
        if not isinstance(msg["content"], str):
            kind = type(msg["content"]).__name__
            raise InputError(f"Message #{i + 1} has content of type {kind}, not a string",
                             "pass the message text as a string")
    if not any(str(m["content"]).strip() for m in messages if m["role"] == "user"):
        raise InputError("The chat has no user message with text", "add {'role': 'user', 'content': '...'}")
    return messages


class Generator(TaskModel):
    """Generate text from a prompt, chat, stream tokens, summarize."""

    explain_target = "generate"

    def _prompt_ids(self, messages: list[Message]) -> dict[str, torch.Tensor]:
        if getattr(self.tokenizer, "chat_template", None):
            return self.tokenizer.apply_chat_template(
                messages, add_generation_prompt=True, return_tensors="pt", return_dict=True
            )
        # A base model without a chat template: plain concatenation of the turns.
        text = "\n".join(m["content"] for m in messages)
        return self.tokenizer(text, return_tensors="pt")

    def _context_size(self) -> int | None:
        """How many positions (prompt + answer) the model can attend to, when it says."""
        size = getattr(self.model.config, "max_position_embeddings", None)
        adapter = getattr(self.model, "active_peft_config", None)  # prompt/prefix tuning: virtual tokens take positions
        if isinstance(size, int) and getattr(adapter, "is_prompt_learning", False):
            size -= int(getattr(adapter, "num_virtual_tokens", 0) or 0)
        return size if isinstance(size, int) and size > 0 else None

    def _prepare(self, messages: list[Message], max_new_tokens: int) -> tuple[dict[str, torch.Tensor], int]:
        """Tokenize the chat; return it with the number of new tokens that fit the model's context."""
        whole = isinstance(max_new_tokens, numbers.Integral) and not isinstance(max_new_tokens, bool)
        if not whole or max_new_tokens < 1:
            raise InputError(f"max_new_tokens must be a whole number of at least 1, got {max_new_tokens!r}")
        max_new_tokens = int(max_new_tokens)
        messages = check_messages(messages)
        inputs = self._prompt_ids(messages)
        prompt_len = inputs["input_ids"].shape[1]
        context = self._context_size()
        if context is not None:
            if prompt_len >= context:
                raise InputError(
                    f"The prompt is {prompt_len} tokens long; model '{self.name}' reads at most {context}",
                    "shorten the prompt or the chat history",
                )
            # Past its context a model with learned positions fails mid-answer: stop there instead.
            max_new_tokens = min(max_new_tokens, context - prompt_len)
        return inputs, max_new_tokens

    def _eos_ids(self) -> set[int]:
        """Every token id that ends an answer: the tokenizer's and the generation config's."""
        ids = {self.tokenizer.eos_token_id}
        config_eos = getattr(getattr(self.model, "generation_config", None), "eos_token_id", None)
        ids.update(config_eos if isinstance(config_eos, list | tuple) else [config_eos])
        return {i for i in ids if i is not None}

    def _generate_kwargs(
        self, max_new_tokens: int, temperature: float, top_p: float, seed: int | None,
        cancel: threading.Event | None = None,
    ) -> dict:
        pad_id = self.tokenizer.pad_token_id
        kwargs = {"max_new_tokens": max_new_tokens,
                  "pad_token_id": pad_id if pad_id is not None else self.tokenizer.eos_token_id}
        if cancel is not None:
            kwargs["stopping_criteria"] = cancel_criteria(cancel)
        if temperature >= MIN_TEMPERATURE:
            torch.manual_seed(0 if seed is None else seed)
            kwargs.update(do_sample=True, temperature=temperature, top_p=top_p)
        else:
            kwargs.update(do_sample=False, temperature=None, top_p=None, top_k=None)
        return kwargs

    def chat(
        self,
        messages: list[Message],
        max_new_tokens: int = 256,
        temperature: float = 0.0,
        top_p: float = 0.95,
        seed: int | None = None,
        cancel: threading.Event | None = None,
        stop: Stop = None,
    ) -> Generation:
        """Answer the last user message of a chat history (greedy unless temperature > 0).

        Setting ``cancel`` (e.g. when the caller's deadline passed) stops the generation at the next token.
        ``stop``: text(s) that end the answer where they first appear (not included in it).
        """
        cut = StopText(stop)
        inputs, max_new_tokens = self._prepare(messages, max_new_tokens)
        prompt_len = inputs["input_ids"].shape[1]
        start = time.perf_counter()
        with torch.inference_mode():
            kwargs = self._generate_kwargs(max_new_tokens, temperature, top_p, seed, cancel)
            if cut.stops:  # transformers stops decoding at them; the text is cut below, like every backend's
                kwargs.update(stop_strings=cut.stops, tokenizer=self.tokenizer)
            output = self.model.generate(**inputs, **kwargs)
        new = output[0, prompt_len:]
        cut.feed(self.tokenizer.decode(new, skip_special_tokens=True))
        finish = "length" if len(new) >= max_new_tokens and int(new[-1]) not in self._eos_ids() else "stop"
        if cancel is not None and cancel.is_set():
            finish = "length"  # cut short, like an answer that ran out of tokens (as on every engine)
        finish = "stop" if cut.stopped else finish
        return Generation(cut.shown().strip(), messages[-1]["content"], int(len(new)), time.perf_counter() - start,
                          finish)

    def stream(
        self,
        messages: list[Message],
        max_new_tokens: int = 256,
        temperature: float = 0.0,
        top_p: float = 0.95,
        seed: int | None = None,
        stop: Stop = None,
    ) -> Iterator[str]:
        """Yield the answer piece by piece as it is generated.

        Bad input raises here, not at the first ``next()``. Closing the iterator early
        (a client that hangs up) stops the generation; an error inside it is re-raised.
        """
        from transformers import TextIteratorStreamer

        cut = StopText(stop)
        inputs, max_new_tokens = self._prepare(messages, max_new_tokens)
        streamer = TextIteratorStreamer(self.tokenizer, skip_prompt=True, skip_special_tokens=True)
        cancelled = threading.Event()
        kwargs = {**inputs, **self._generate_kwargs(max_new_tokens, temperature, top_p, seed, cancelled),
                  "streamer": streamer}
        errors: list[BaseException] = []

        def run() -> None:
            try:
                with torch.inference_mode():
                    self.model.generate(**kwargs)
            except BaseException as exc:  # noqa: BLE001 - handed to the reading thread below
                errors.append(exc)
                streamer.end()  # without the end signal the reader would wait forever

        worker = threading.Thread(target=run, name="tamellm-stream", daemon=True)
        worker.start()

        def pieces() -> Iterator[str]:
            try:
                for piece in streamer:
                    shown = cut.feed(piece)
                    if shown:
                        yield shown
                    if cut.stopped:
                        break
                tail = cut.flush()
                if tail:
                    yield tail
            finally:
                cancelled.set()
                worker.join()
            if errors:
                raise errors[0]

        return pieces()

    def predict(self, inputs: str | list[str], system: str | None = None, **options) -> Generation | list:
        """Generate a reply to one prompt or to each prompt of a list."""
        prompts, single = as_text_list(inputs, "prompt")
        prefix = [{"role": "system", "content": system}] if system else []
        results = [self.chat(prefix + [{"role": "user", "content": p}], **options) for p in prompts]
        return results[0] if single else results

    def summarize(
        self, text: str | list[str], max_words: int = 40, **options
    ) -> Generation | list[Generation]:
        """Summarize a text (or each text of a list) by prompting the chat model."""
        texts, single = as_text_list(text)
        options.setdefault("max_new_tokens", max(32, int(max_words * 2)))
        prompts = [SUMMARY_PROMPT.format(words=max_words, text=t.strip()) for t in texts]
        results = [self.chat([{"role": "user", "content": p}], **options) for p in prompts]
        return results[0] if single else results


class PeftGenerator(Generator):
    """A chat model with a prompt- or prefix-tuning adapter (peft's generate prepends the virtual tokens)."""

    explain_target = None
    explain_hint = ("a prompt- or prefix-tuned chat model steers generation through virtual tokens, not the "
                    "prompt's words; re-train with --strategy lora or full to explain it")


register_task(TaskSpec(
    name="generate", description="prompt or chat -> generated text (chat, completion, summaries)",
    models={"gguf": Generator, "transformers": Generator, "peft": PeftGenerator},
    data_schema="prompt-response", evaluator="generate", adapter="generate", primary_metric=("loss", "min"),
    auto_strategies=("lora", "prompt-tuning"), default_strategy="lora",
))
