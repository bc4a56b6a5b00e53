"""Instruction tuning: a causal LM on chat-template prompt/response pairs, loss only on response tokens."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import torch

from tamellm.errors import DataError
from tamellm.training.collate import IGNORE_INDEX
from tamellm.training.task_adapters.base import TaskAdapter, fill_missing_splits, register

COLUMN_PAIRS = (("prompt", "response"), ("question", "answer"), ("instruction", "output"), ("input", "output"))


def find_pair(columns: Iterable[str]) -> tuple[str, str]:
    """The (prompt, response) column names of an instruction table."""
    lower = {c.lower(): c for c in columns}
    for prompt, response in COLUMN_PAIRS:
        if prompt in lower and response in lower:
            return lower[prompt], lower[response]
    raise DataError(f"instruction data needs a prompt and a response column; found: {', '.join(columns)}",
                    "name them " + ", ".join(f"{p}/{r}" for p, r in COLUMN_PAIRS))


@register("generate")
class InstructionAdapter(TaskAdapter):
    """Causal LM fine-tuning; the prompt goes through the tokenizer's chat template when it has one."""

    @classmethod
    def load_splits(cls, config: Any) -> Any:
        """Prompt/response tables: read, checked for the two columns, split at random where a part is missing."""
        from tamellm.data import read_table

        data = config.data
        frames = {"train": read_table(data.train)}
        for name in ("validation", "test"):
            if getattr(data, name) is not None:
                frames[name] = read_table(getattr(data, name))
        for frame in frames.values():
            find_pair(list(frame.columns))
        return fill_missing_splits(frames, config)

    peft_task_type = "CAUSAL_LM"
    auto_class = "AutoModelForCausalLM"
    sequence_labels = True

    def __init__(self, splits: Any, options: dict) -> None:
        super().__init__(splits, options)
        prompt, response = find_pair(list(splits.train.columns))
        self.pairs = {name: list(zip(frame[prompt].astype(str), frame[response].astype(str), strict=True))
                      for name, frame in splits.items()}
        self.columns_used = {"prompt": prompt, "response": response}

    def prepare_tokenizer(self, tokenizer: Any, model: torch.nn.Module) -> None:
        if tokenizer.pad_token is None:
            tokenizer.pad_token = tokenizer.eos_token

    def _encode(self, tokenizer: Any, prompt: str, response: str, max_length: int | None) -> dict:
        if getattr(tokenizer, "chat_template", None):
            text = tokenizer.apply_chat_template([{"role": "user", "content": prompt}], tokenize=False,
                                                 add_generation_prompt=True)
        else:
            text = prompt + "\n"
        prompt_ids = tokenizer(text, add_special_tokens=False)["input_ids"]
        answer_ids = tokenizer(response + (tokenizer.eos_token or ""), add_special_tokens=False)["input_ids"]
        if max_length and len(prompt_ids) + len(answer_ids) > max_length:
            answer_ids = answer_ids[:max(1, max_length // 2)]
            prompt_ids = prompt_ids[-(max_length - len(answer_ids)):]  # keep the prompt's end (the question)
        ids = prompt_ids + answer_ids
        return {"input_ids": ids, "attention_mask": [1] * len(ids),
                "labels": [IGNORE_INDEX] * len(prompt_ids) + answer_ids}

    def token_lengths(self, tokenizer: Any) -> list[int]:
        return [len(self._encode(tokenizer, p, r, None)["input_ids"]) for p, r in self.pairs["train"]]

    def split_names(self) -> list[str]:
        return list(self.pairs)

    def split_features(self, tokenizer: Any, split: str, max_length: int) -> list[dict]:
        return [self._encode(tokenizer, p, r, max_length) for p, r in self.pairs[split]]

    @torch.no_grad()
    def evaluate(self, model: torch.nn.Module, batches: Iterable[dict]) -> dict:
        total, tokens = 0.0, 0
        for batch in batches:
            count = int((batch["labels"][:, 1:] != IGNORE_INDEX).sum())
            total += float(model(**batch).loss) * count
            tokens += count
        loss = total / max(1, tokens)
        return {"loss": loss, "perplexity": math.exp(min(loss, 50.0)), "tokens": tokens}

    def manifest(self) -> dict:
        return {**super().manifest(), "columns": self.columns_used}
