"""What an explainer needs from a model, whatever the task: the ``Target``.

A target wraps one input text and one task model as functions of tensors:
``forward_ids`` (token ids ``[B, T]`` -> scores ``[B, n_outputs]``, differentiable through
the embedding layer, for gradient methods) and ``forward_presence`` (which words are
kept, ``[B, n_words]`` of 0/1 -> scores, for perturbation methods and faithfulness).
Each task builds its own target in its own module and registers it in ``TARGETS``; a
``TaskModel`` class names the target it is explained by (``explain_target``), so adding
a task is adding a file.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import torch

from tamellm.errors import InputError
from tamellm.explanations.words import Word
from tamellm.registry import Registry

TARGETS: Registry[Callable[..., Target]] = Registry("explain_targets", "explanation target")
register_target = TARGETS.register
GRADIENTS, ATTENTION, PERTURB = "gradients", "attention", "perturbation"


@dataclass
class Target:
    """One text made explainable: its words, its outputs and functions of its inputs."""

    text: str
    task: str
    words: list[Word]
    outputs: list[str]  # names of the outputs that can be explained (classes, entities, tokens)
    default_output: int  # the output explained when none is asked for (the prediction)
    capabilities: set[str]
    input_ids: torch.Tensor | None = None  # [1, T]
    pad_id: int = 0  # integrated-gradients baseline token
    mask_id: int = 0  # the token that stands for a removed word
    embedding: torch.nn.Module | None = None
    forward_ids: Callable[[torch.Tensor], torch.Tensor] | None = None
    attentions: Callable[[torch.Tensor], tuple[torch.Tensor, ...]] | None = None
    rollout_queries: list[int] = field(default_factory=list)  # positions whose attention rows are read
    batch_size: int = 64
    signed_outputs: bool = True
    probabilities: list[float] = field(default_factory=list)
    extra: dict = field(default_factory=dict)
    # The same outputs as log-odds, which do not saturate: plain gradients of a probability near
    # 0 or 1 vanish (gradient × input uses this when a target has it).
    forward_logits: Callable[[torch.Tensor], torch.Tensor] | None = None
    # The outputs from word embeddings ``[B, T, H]`` (what ``embedding`` returns): lets integrated
    # gradients skip the two extra full forward passes that captum's layer variant makes.
    forward_embeds: Callable[[torch.Tensor], torch.Tensor] | None = None
    _presence_fn: Callable[[torch.Tensor], torch.Tensor] | None = None
    _cache: dict = field(default_factory=dict, repr=False)

    @property
    def n_words(self) -> int:
        """How many words the text has."""
        return len(self.words)

    def ids_with(self, presence: torch.Tensor) -> torch.Tensor:
        """Token ids ``[B, T]`` where the words absent from ``presence`` ``[B, n_words]`` are masked."""
        ids = self.input_ids.expand(presence.shape[0], -1).clone()
        for index, word in enumerate(self.words):
            drop = presence[:, index] < 0.5
            if drop.any():
                ids[drop.nonzero(as_tuple=True)[0].unsqueeze(1), torch.tensor(word.tokens)] = self.mask_id
        return ids

    @torch.no_grad()
    def forward_presence(self, presence: torch.Tensor) -> torch.Tensor:
        """Scores of every output with only the present words kept, in bounded batches.

        Results are remembered per pattern, so explaining several outputs (or measuring
        faithfulness after a perturbation method) does not re-run the same inputs.
        """
        presence = (presence.reshape(-1, self.n_words) >= 0.5)
        keys = [bytes(row.numpy().astype("uint8")) for row in presence]
        todo = sorted({i for i, k in enumerate(keys) if k not in self._cache}, key=lambda i: keys[i])
        unique = list(dict.fromkeys(keys[i] for i in todo))
        rows = presence[[keys.index(k) for k in unique]] if unique else presence[:0]
        for start in range(0, len(unique), self.batch_size):
            chunk = rows[start:start + self.batch_size].float()
            fn = self._presence_fn or (lambda c: self.forward_ids(self.ids_with(c)))
            for key, out in zip(unique[start:start + self.batch_size], fn(chunk).float(), strict=True):
                self._cache[key] = out
        return torch.stack([self._cache[k] for k in keys])

    def output_index(self, label: str | int | None) -> int:
        """The index of the output named ``label`` (the prediction when None)."""
        if label is None:
            return self.default_output
        if isinstance(label, int) and not isinstance(label, bool):
            if 0 <= label < len(self.outputs):
                return label
        elif str(label) in self.outputs:
            return self.outputs.index(str(label))
        else:  # an entity may be named without its span: "PER: John" or just "John"
            loose = [i for i, o in enumerate(self.outputs)
                     if o.split(" [")[0] == str(label) or o.split(" [")[0].split(": ", 1)[-1] == str(label)]
            if loose:
                return loose[0]
        raise InputError(f"Cannot explain label {label!r}: the model's outputs here are not that",
                         f"choose one of: {', '.join(self.outputs[:20])}")


def log_odds(logits: torch.Tensor) -> torch.Tensor:
    """log p_k − log(1 − p_k) of a softmax over the last axis, computed stably."""
    others = torch.stack([torch.cat([logits[..., :k], logits[..., k + 1:]], -1).logsumexp(-1)
                          for k in range(logits.shape[-1])], -1)
    return logits - others


def check_length(n_tokens: int, limit: int, model: str) -> None:
    """Reject a text longer than the model reads, with the limit (never run out of memory)."""
    if n_tokens > limit:
        raise InputError(f"The text is {n_tokens} tokens long; model '{model}' explains at most {limit}",
                         "explain a shorter passage (split the text into sentences or paragraphs)")


def model_limit(model: torch.nn.Module, tokenizer, cap: int = 512) -> int:
    """How many tokens the model reads at most."""
    limits = [cap, getattr(model.config, "max_position_embeddings", None) or cap]
    if isinstance(getattr(tokenizer, "model_max_length", None), int) and tokenizer.model_max_length < 10**6:
        limits.append(tokenizer.model_max_length)
    return int(min(limits))


def build_target(task_model, text: str, **options) -> Target:
    """The target for ``text`` on ``task_model`` (a TaskModel from ``tamellm.load``)."""
    if not isinstance(text, str) or not text.strip():
        raise InputError("No text to explain", "pass a non-empty string")
    name = type(task_model).__name__
    builder = TARGETS.get(getattr(task_model, "explain_target", None) or "")
    if builder is None:
        hint = getattr(task_model, "explain_hint", None) or \
            "explainable: text classification, zero-shot classification, NER, generation"
        if task_model.task == "embed":
            hint = "an encoder explains zero-shot classification: pass labels=[...] (--labels a,b)"
        raise InputError(f"Explanations are not available for task '{task_model.task}' ({name})", hint)
    return builder(task_model, text, **options)
