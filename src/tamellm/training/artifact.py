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


# Files of a base model folder that an adapter folder needs to rebuild the frozen base.
BASE_FILES = ("config.json", "generation_config.json", "*.safetensors", "*.safetensors.index.json")


def portable_base(manifest: dict, folder: Path) -> dict:
    """The manifest of an adapter (kind "peft") folder, made loadable wherever the folder goes.

    A catalog base is recorded by name only and resolved where the folder is loaded; any
    other base (a local folder, a converted GGUF in the cache) is copied into ``base/`` and
    recorded by that relative path, so no load depends on the creator's absolute paths.
    The weights of ``folder`` must already be written.
    """
    from tamellm.models.catalog import CATALOG
    from tamellm.models.peft_loader import BASE_DIR

    manifest = dict(manifest)
    source = manifest.pop("base_model_path", None)
    name = manifest.get("base_model")
    if name in CATALOG or not source:
        recorded = name
    else:
        target = folder / BASE_DIR
        target.mkdir()
        for pattern in BASE_FILES:
            for path in Path(source).glob(pattern):
                shutil.copy2(path, target / path.name)
        manifest["base_model_path"] = recorded = BASE_DIR
    adapter_config = folder / "adapter_config.json"
    if adapter_config.is_file() and recorded:  # peft writes the creator's absolute path there too
        config = json.loads(adapter_config.read_text(encoding="utf-8"))
        config["base_model_name_or_path"] = str(recorded)
        adapter_config.write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    return manifest


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
    if manifest.get("kind") == "peft":
        manifest = portable_base(manifest, tmp)
    else:  # the weights are all in the folder: the base's location on this machine is of no use elsewhere
        manifest = {k: v for k, v in manifest.items() if k != "base_model_path"}
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
