"""Helpers the transformer targets share: encoding with offsets, attentions."""

from __future__ import annotations

import torch

from tamellm.explanations.target import check_length, model_limit
from tamellm.explanations.words import Word, words_from_encoding


def encode(tokenizer, model, text: str, name: str, add_special_tokens: bool = True,
           span: tuple[int, int] | None = None) -> tuple[torch.Tensor, list[Word]]:
    """Token ids ``[1, T]`` and the words of ``text`` (checked against the model's limit)."""
    enc = tokenizer(text, return_offsets_mapping=True, add_special_tokens=add_special_tokens)
    ids = enc["input_ids"]
    check_length(len(ids), model_limit(model, tokenizer), name)
    words = words_from_encoding(text, [tuple(o) for o in enc["offset_mapping"]], enc.word_ids(), span)
    return torch.tensor([ids]), words


def removal_ids(tokenizer) -> tuple[int, int]:
    """(pad id, mask id): the IG baseline token and the token that stands for a removed word."""
    pad = tokenizer.pad_token_id
    if pad is None:
        pad = tokenizer.eos_token_id if tokenizer.eos_token_id is not None else 0
    mask = tokenizer.mask_token_id if tokenizer.mask_token_id is not None else pad
    return int(pad), int(mask)


def attention_fn(model: torch.nn.Module, **call):
    """A function ids -> per-layer attentions ``[1, H, T, T]`` (eager attention, computed once)."""

    @torch.no_grad()
    def attentions(ids: torch.Tensor) -> tuple[torch.Tensor, ...]:
        previous = getattr(model.config, "_attn_implementation", None)
        try:
            if hasattr(model, "set_attn_implementation"):
                model.set_attn_implementation("eager")  # sdpa does not return attention weights
            out = model(input_ids=ids, attention_mask=torch.ones_like(ids), output_attentions=True, **call)
        finally:
            if previous and hasattr(model, "set_attn_implementation"):
                model.set_attn_implementation(previous)
        return tuple(a.float() for a in out.attentions)

    return attentions


def embedding_layer(model: torch.nn.Module) -> torch.nn.Module:
    """The word (input) embedding layer of a transformers model."""
    return model.get_input_embeddings()
