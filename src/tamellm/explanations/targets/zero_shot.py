"""Target for zero-shot classification by similarity: the softmax over label similarities."""

from __future__ import annotations

import torch

from tamellm.errors import InputError
from tamellm.explanations.target import ATTENTION, GRADIENTS, PERTURB, Target, log_odds, register_target
from tamellm.explanations.targets.common import attention_fn, embedding_layer, encode, removal_ids
from tamellm.inputs import as_label_list


@register_target("zero-shot")
def zero_shot_target(task_model, text: str, labels=None, **_: object) -> Target:
    """Outputs are the candidate labels; the score of a label is its zero-shot probability."""
    if labels is None:
        raise InputError("Zero-shot explanations need the candidate labels",
                         "pass labels=['positive', 'negative'] (or --labels a,b on the command line)")
    mapping = as_label_list(labels)
    vectors = torch.from_numpy(task_model.label_vectors(list(mapping.values())))
    encoder = task_model._encoder()
    encoder.eval()
    ids, words = encode(task_model.tokenizer, encoder, text, task_model.name)

    def forward_logits(batch: torch.Tensor | None = None, embeds: torch.Tensor | None = None) -> torch.Tensor:
        inputs = {"input_ids": batch} if embeds is None else {"inputs_embeds": embeds}
        mask = torch.ones(next(iter(inputs.values())).shape[:2], dtype=torch.long)
        hidden = encoder(**inputs, attention_mask=mask).last_hidden_state.float()
        pooled = torch.nn.functional.normalize(hidden.mean(1), dim=-1)  # no padding: a plain mean
        return pooled @ vectors.T * task_model.scale

    def forward_ids(batch: torch.Tensor) -> torch.Tensor:
        return forward_logits(batch).softmax(-1)

    pad, mask = removal_ids(task_model.tokenizer)
    with torch.no_grad():
        probs = forward_ids(ids)[0].tolist()
    target = Target(text, "zero-shot-classification", words, list(mapping), int(max(range(len(probs)),
                  key=probs.__getitem__)), {GRADIENTS, ATTENTION, PERTURB}, ids, pad, mask,
                  embedding_layer(encoder), forward_ids, attention_fn(encoder),
                  rollout_queries=list(range(ids.shape[1])), probabilities=probs)
    target.forward_logits = lambda batch: log_odds(forward_logits(batch))
    target.forward_embeds = lambda embeds: forward_logits(embeds=embeds).softmax(-1)
    return target
