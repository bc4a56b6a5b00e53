"""Target for a fine-tuned sequence classifier: the probability of each class."""

from __future__ import annotations

import torch

from tamellm.explanations.target import ATTENTION, GRADIENTS, PERTURB, Target, log_odds, register_target
from tamellm.explanations.targets.common import attention_fn, embedding_layer, encode, removal_ids


@register_target("classify")
def classifier_target(task_model, text: str, **_: object) -> Target:
    """Outputs are the model's classes; scores are softmax (or sigmoid) probabilities."""
    return _classifier_target(task_model, text, differentiable=True)


@register_target("classify-perturbation")
def onnx_classifier_target(task_model, text: str, **_: object) -> Target:
    """An ONNX Runtime classifier has no gradients or attentions: perturbation methods only (occlusion by default)."""
    return _classifier_target(task_model, text, differentiable=False)


def _classifier_target(task_model, text: str, differentiable: bool) -> Target:
    model, tokenizer = task_model.model, task_model.tokenizer
    model.eval()
    ids, words = encode(tokenizer, model, text, task_model.name)
    multi = task_model.multi_label

    def probabilities(**inputs: torch.Tensor) -> torch.Tensor:
        first = next(iter(inputs.values()))
        logits = model(**inputs, attention_mask=torch.ones(first.shape[:2], dtype=torch.long)).logits.float()
        return torch.sigmoid(logits) if multi else logits.softmax(-1)

    def forward_ids(batch: torch.Tensor) -> torch.Tensor:
        return probabilities(input_ids=batch)

    def forward_logits(batch: torch.Tensor) -> torch.Tensor:
        logits = model(input_ids=batch, attention_mask=torch.ones_like(batch)).logits.float()
        return logits if multi else log_odds(logits)

    pad, mask = removal_ids(tokenizer)
    with torch.no_grad():
        probs = forward_ids(ids)[0].tolist()
    predicted = int(max(range(len(probs)), key=probs.__getitem__))
    if not differentiable:
        return Target(text, "classify", words, task_model.labels, predicted, {PERTURB}, ids, pad, mask,
                      forward_ids=forward_ids, probabilities=probs)
    target = Target(text, "classify", words, task_model.labels, predicted, {GRADIENTS, ATTENTION, PERTURB}, ids,
                    pad, mask, embedding_layer(model), forward_ids, attention_fn(model), rollout_queries=[0],
                    probabilities=probs)
    target.forward_logits = forward_logits
    target.forward_embeds = lambda embeds: probabilities(inputs_embeds=embeds)
    return target
