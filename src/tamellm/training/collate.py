"""Dynamic padding: each batch is padded to its own longest example, not to max_length."""

from __future__ import annotations

import torch

IGNORE_INDEX = -100  # positions the loss skips (transformers' convention)
_FILL = {"input_ids": None, "attention_mask": 0, "token_type_ids": 0, "labels": IGNORE_INDEX}


def collate(examples: list[dict], pad_id: int, sequence_labels: bool) -> dict[str, torch.Tensor]:
    """Stack examples into tensors, right-padding token sequences (and sequence labels with -100).

    Hand-written rather than DataCollatorWithPadding because one collator serves every
    task: per-token labels (NER, instruction) and scalar or multi-hot labels alike.
    """
    longest = max(len(e["input_ids"]) for e in examples)
    batch: dict[str, torch.Tensor] = {}
    for key in examples[0]:
        values = [e[key] for e in examples]
        if key != "labels" or sequence_labels:
            fill = pad_id if key == "input_ids" else _FILL.get(key, 0)
            values = [list(v) + [fill] * (longest - len(v)) for v in values]
            batch[key] = torch.tensor(values, dtype=torch.long)
        else:
            multi_hot = isinstance(values[0], list)
            batch[key] = torch.tensor(values, dtype=torch.float if multi_hot else torch.long)
    return batch
