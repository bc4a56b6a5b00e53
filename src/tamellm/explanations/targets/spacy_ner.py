"""Target for spaCy NER: not differentiable, so only perturbation methods apply.

The score of an entity is 1 when spaCy still finds it (same label, same words) in the
text with some words removed, else 0: leave-one-out then says which words it needs.
"""

from __future__ import annotations

import torch

from tamellm.errors import InputError
from tamellm.explanations.target import PERTURB, Target, register_target
from tamellm.explanations.words import Word


@register_target("spacy-ner")
def spacy_target(task_model, text: str, **_: object) -> Target:
    """Outputs are the entities spaCy finds; words are spaCy tokens."""
    nlp = task_model.model
    doc = nlp(text)
    if not doc.ents:
        raise InputError(f"Model '{task_model.name}' finds no entity in this text, so there is nothing to explain",
                         "explain a text in which `tamellm ner` finds an entity")
    words = [Word(t.text, t.idx, t.idx + len(t.text), [i]) for i, t in enumerate(doc) if not t.is_space]
    ents = [(e.label_, tuple(range(e.start, e.end))) for e in doc.ents]
    index = {w.tokens[0]: i for i, w in enumerate(words)}

    def presence_fn(presence: torch.Tensor) -> torch.Tensor:
        texts, kept_maps = [], []
        for row in presence:
            kept = [w for i, w in enumerate(words) if row[i] >= 0.5]
            parts, where, pos = [], {}, 0
            for w in kept:  # rebuild the text; remember where each kept word lands
                where[(pos, pos + len(w.text))] = w.tokens[0]
                parts.append(w.text)
                pos += len(w.text) + 1
            texts.append(" ".join(parts))
            kept_maps.append(where)
        out = torch.zeros(len(texts), len(ents))
        for r, new_doc in enumerate(nlp.pipe(texts)):
            found = set()
            for e in new_doc.ents:
                tokens = tuple(kept_maps[r].get((t.idx, t.idx + len(t.text)), -1) for t in e)
                found.add((e.label_, tokens))
            for j, ent in enumerate(ents):
                out[r, j] = float(ent in found and all(t in index for t in ent[1]))
        return out

    names = [f"{e.label_}: {e.text} [{e.start_char}:{e.end_char}]" for e in doc.ents]
    target = Target(text, "ner", words, names, 0, {PERTURB}, probabilities=[1.0] * len(names),
                    _presence_fn=presence_fn, batch_size=256)
    return target
