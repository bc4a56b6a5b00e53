"""Target for a transformers NER model: one output per entity it found.

The score of an entity is the mean probability, over the entity's tokens, of the tag
the model gave each token (B-PER, I-PER, ...): "which words made the model call this
span a PER".
"""

from __future__ import annotations

import torch

from tamellm.errors import InputError
from tamellm.explanations.target import ATTENTION, GRADIENTS, PERTURB, Target, register_target
from tamellm.explanations.targets.common import attention_fn, embedding_layer, encode, removal_ids


@register_target("ner")
def token_classifier_target(task_model, text: str, **_: object) -> Target:
    """Outputs are the entities the model finds in ``text`` ("PER: John Smith")."""
    model, tokenizer = task_model.model, task_model.tokenizer
    model.eval()
    ids, words = encode(tokenizer, model, text, task_model.name)
    offsets = tokenizer(text, return_offsets_mapping=True)["offset_mapping"]
    entities = task_model.predict(text).entities
    if not entities:
        raise InputError(f"Model '{task_model.name}' finds no entity in this text, so there is nothing to explain",
                         "explain a text in which `tamellm ner` finds an entity")
    with torch.no_grad():
        tags = model(input_ids=ids, attention_mask=torch.ones_like(ids)).logits[0].argmax(-1)
    positions, tag_ids, names = [], [], []
    for entity in entities:
        inside = [i for i, (s, e) in enumerate(offsets) if e > s and s >= entity.start and e <= entity.end]
        if not inside:
            continue
        positions.append(torch.tensor(inside))
        tag_ids.append(tags[inside])
        names.append(f"{entity.label}: {entity.text} [{entity.start}:{entity.end}]")

    def forward_ids(batch: torch.Tensor) -> torch.Tensor:
        probs = model(input_ids=batch, attention_mask=torch.ones_like(batch)).logits.float().softmax(-1)
        cols = [probs[:, pos, tag].mean(-1) for pos, tag in zip(positions, tag_ids, strict=True)]
        return torch.stack(cols, dim=-1)

    pad, mask = removal_ids(tokenizer)
    with torch.no_grad():
        scores = forward_ids(ids)[0].tolist()
    target = Target(text, "ner", words, names, 0, {GRADIENTS, ATTENTION, PERTURB}, ids, pad, mask,
                    embedding_layer(model), forward_ids, attention_fn(model),
                    rollout_queries=positions[0].tolist(), probabilities=scores)
    target.extra["entity_positions"] = [p.tolist() for p in positions]
    return target
