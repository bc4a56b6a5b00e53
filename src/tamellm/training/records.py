"""What a run records about itself: environment.json and data.json."""

from __future__ import annotations

import hashlib
import json
import os
import platform
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

import torch

PACKAGES = ("tamellm", "torch", "transformers", "tokenizers", "peft", "safetensors", "accelerate", "optuna",
            "scikit-learn", "pandas", "numpy", "mlflow", "tensorboard", "seqeval")


def write_json(path: Path, data: Any) -> None:
    """Write JSON through a temporary file and rename it into place."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, default=str), encoding="utf-8")
    os.replace(tmp, path)


def _version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def environment_record(seed: int) -> dict:
    """Package versions, Python, platform, torch threads, seed and the command line."""
    return {"python": sys.version.split()[0], "platform": platform.platform(),
            "packages": {name: _version(name) for name in PACKAGES}, "torch_threads": torch.get_num_threads(),
            "seed": seed, "command": sys.argv, "world_size": int(os.environ.get("WORLD_SIZE", "1"))}


def sha256(path: Path) -> str:
    """The SHA-256 of a file."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _frame_hash(frame: Any) -> str:
    import pandas as pd

    values = pd.util.hash_pandas_object(frame.astype(str), index=False).to_numpy()
    return hashlib.sha256(values.tobytes()).hexdigest()


def data_record(files: list[Path], splits: Any, adapter: Any) -> dict:
    """Files with their SHA-256, rows per split, the column choice and the validation report."""
    columns = getattr(splits, "columns", None)
    record: dict[str, Any] = {
        "files": [{"path": str(p), "sha256": sha256(p), "bytes": p.stat().st_size} for p in files if p.is_file()],
        "rows": splits.sizes() if hasattr(splits, "sizes") else {},
        "split_sha256": {name: _frame_hash(frame) for name, frame in splits.items()} if hasattr(splits, "items")
        else {},
        "notes": list(getattr(splits, "notes", []) or []),
        "task": adapter.task,
    }
    if columns is not None:
        record["columns"] = {"text": columns.text, "label": columns.label, "reason_text": columns.reason_text,
                             "reason_label": columns.reason_label, "multi_label": columns.multi_label}
    report = getattr(splits, "report", None)
    if report is not None:
        record["validation_report"] = report
    return record
