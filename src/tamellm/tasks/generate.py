"""Text generation and chat with a causal language model (SmolLM2 by default)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import torch

from tamellm.errors import InputError
from tamellm.inputs import as_text_list
from tamellm.results import Generation
from tamellm.tasks.base import TaskModel, register

Message = dict[str, str]
ROLES = ("system", "user", "assistant")

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
            raise InputError(f"Message #{i + 1} has role '{msg['role']}'", f"accepted roles: {', '.join(ROLES)}")
    if not any(str(m["content"]).strip() for m in messages if m["role"] == "user"):
        raise InputError("The chat has no user message with text", "add {'role': 'user', 'content': '...'}")
    return messages


@register("generate", kinds=("gguf", "transformers"))
class Generator(TaskModel):
    """Generate text from a prompt, chat, stream tokens, summarize."""

    def _prompt_ids(self, messages: list[Message]) -> dict[str, torch.Tensor]:
        if getattr(self.tokenizer, "chat_template", None):
            return self.tokenizer.apply_chat_template(
                messages, add_generation_prompt=True, return_tensors="pt", return_dict=True
            )
        # A base model without a chat template: plain concatenation of the turns.
        text = "\n".join(m["content"] for m in messages)
        return self.tokenizer(text, return_tensors="pt")

    def _generate_kwargs(self, max_new_tokens: int, temperature: float, top_p: float, seed: int | None) -> dict:
        if max_new_tokens < 1:
            raise InputError(f"max_new_tokens must be at least 1, got {max_new_tokens}")
        kwargs = {"max_new_tokens": max_new_tokens, "pad_token_id": self.tokenizer.pad_token_id
                  or self.tokenizer.eos_token_id}
        if temperature > 0:
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
    ) -> Generation:
        """Answer the last user message of a chat history (greedy unless temperature > 0)."""
        messages = check_messages(messages)
        inputs = self._prompt_ids(messages)
        prompt_len = inputs["input_ids"].shape[1]
        start = time.perf_counter()
        with torch.inference_mode():
            output = self.model.generate(**inputs, **self._generate_kwargs(max_new_tokens, temperature, top_p, seed))
        new = output[0, prompt_len:]
        text = self.tokenizer.decode(new, skip_special_tokens=True).strip()
        finish = "length" if len(new) >= max_new_tokens and new[-1] != self.tokenizer.eos_token_id else "stop"
        return Generation(text, messages[-1]["content"], int(len(new)), time.perf_counter() - start, finish)

    def stream(
        self,
        messages: list[Message],
        max_new_tokens: int = 256,
        temperature: float = 0.0,
        top_p: float = 0.95,
        seed: int | None = None,
    ) -> Iterator[str]:
        """Yield the answer piece by piece as it is generated."""
        from transformers import TextIteratorStreamer

        messages = check_messages(messages)
        inputs = self._prompt_ids(messages)
        streamer = TextIteratorStreamer(self.tokenizer, skip_prompt=True, skip_special_tokens=True)
        kwargs = {**inputs, **self._generate_kwargs(max_new_tokens, temperature, top_p, seed), "streamer": streamer}

        def run() -> None:
            with torch.inference_mode():
                self.model.generate(**kwargs)

        worker = threading.Thread(target=run, daemon=True)
        worker.start()
        yield from (piece for piece in streamer if piece)
        worker.join()

    def predict(self, inputs: str | list[str], system: str | None = None, **options) -> Generation | list:
        """Generate a reply to one prompt or to each prompt of a list."""
        prompts, single = as_text_list(inputs, "prompt")
        prefix = [{"role": "system", "content": system}] if system else []
        results = [self.chat(prefix + [{"role": "user", "content": p}], **options) for p in prompts]
        return results[0] if single else results

    def summarize(self, text: str, max_words: int = 40, **options) -> Generation:
        """Summarize a text by prompting the chat model."""
        texts, _ = as_text_list(text)
        options.setdefault("max_new_tokens", max(32, int(max_words * 2)))
        prompt = SUMMARY_PROMPT.format(words=max_words, text=texts[0].strip())
        return self.chat([{"role": "user", "content": prompt}], **options)
