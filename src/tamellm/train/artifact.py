"""The best model folder: weights (safetensors), tokenizer, tamellm.json and a model card, written atomically."""

from __future__ import annotations

import json
import os
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import torch

CARD = """---
library_name: transformers
tags: [tamellm, {task}]
base_model: {base_model}
---
# {name}

Fine-tuned by tamellm from `{base_model}` for the task `{task}` with the `{strategy}` strategy.

## Results

{results}

## Use

```python
import tamellm
model = tamellm.load("{folder}")
model.predict("your text")
```

Labels: {labels}

Training parameters: `{params}`
"""


def _results_table(metrics: dict) -> str:
    rows = ["| split | metric | value |", "|---|---|---|"]
    for split, values in metrics.items():
        for key, value in (values or {}).items():
            if isinstance(value, int | float) and not isinstance(value, bool):
                rows.append(f"| {split} | {key} | {value:.4f} |")
    return "\n".join(rows)


def save_model_folder(model: torch.nn.Module, tokenizer: Any, folder: Path, manifest: dict, metrics: dict,
                      params: dict) -> Path:
    """Write the model folder through ``folder``.tmp and rename it, so a kill never leaves half a folder."""
    tmp = folder.with_name(folder.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    model.save_pretrained(tmp, safe_serialization=True)
    if hasattr(model, "get_base_model"):  # a peft adapter folder: keep the base config (labels) beside it
        model.get_base_model().config.save_pretrained(tmp)
    tokenizer.save_pretrained(tmp)
    manifest = {**manifest, "created": datetime.now(UTC).isoformat(timespec="seconds")}
    (tmp / "tamellm.json").write_text(json.dumps(manifest, indent=2, default=str), encoding="utf-8")
    card = CARD.format(name=folder.parent.name, task=manifest.get("task"), base_model=manifest.get("base_model"),
                       strategy=manifest.get("strategy"), results=_results_table(metrics), folder=folder,
                       labels=", ".join(map(str, manifest.get("labels") or [])) or "-",
                       params=json.dumps(params, default=str))
    (tmp / "README.md").write_text(card, encoding="utf-8")
    old = folder.with_name(folder.name + ".old")
    if folder.exists():
        shutil.rmtree(old, ignore_errors=True)
        os.replace(folder, old)
    os.replace(tmp, folder)
    shutil.rmtree(old, ignore_errors=True)
    return folder
