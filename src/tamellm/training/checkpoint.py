"""Checkpoints written atomically, and everything a resumed run needs to continue exactly.

A checkpoint folder holds the trainable weights (safetensors), the optimizer and
scheduler state plus the torch RNG (``state.pt``, our own file, loaded with
``weights_only=True``) and the loop's counters (``state.json``). It is written in a
temporary folder and renamed into place, so a ``kill -9`` leaves either the previous
checkpoint or the new one, never half of one.
"""

from __future__ import annotations

import json
import logging
import os
import random
import shutil
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

logger = logging.getLogger(__name__)


def trainable_state(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    """The parameters that train (frozen ones are rebuilt from the base model on resume)."""
    return {n: p.detach().cpu().contiguous().clone() for n, p in model.named_parameters() if p.requires_grad}


def load_trainable(model: torch.nn.Module, state: dict[str, torch.Tensor]) -> None:
    """Copy saved trainable parameters back into ``model``."""
    params = dict(model.named_parameters())
    missing = [n for n in state if n not in params]
    if missing:
        raise RuntimeError(f"checkpoint holds parameters the model lacks: {missing[:3]}")
    with torch.no_grad():
        for name, tensor in state.items():
            params[name].copy_(tensor)


def save_tensors_atomic(tensors: dict[str, torch.Tensor], path: Path) -> None:
    """Write a safetensors file through a temporary name and rename it into place."""
    tmp = path.with_name(path.name + ".tmp")
    save_file(tensors, str(tmp))
    os.replace(tmp, path)


def save_checkpoint(folder: Path, model: torch.nn.Module, optimizer: Any, scheduler: Any, counters: dict) -> None:
    """Write ``folder`` (e.g. checkpoints/last) atomically."""
    tmp, old = folder.with_name(folder.name + ".tmp"), folder.with_name(folder.name + ".old")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    save_file(trainable_state(model), str(tmp / "trainable.safetensors"))
    torch.save({"optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
                "torch_rng": torch.get_rng_state()}, tmp / "state.pt")
    py_state = random.getstate()
    counters = {**counters, "python_rng": [py_state[0], list(py_state[1]), py_state[2]]}
    (tmp / "state.json").write_text(json.dumps(counters), encoding="utf-8")
    _fsync_dir(tmp)
    if folder.exists():
        shutil.rmtree(old, ignore_errors=True)
        os.replace(folder, old)
    os.replace(tmp, folder)
    shutil.rmtree(old, ignore_errors=True)
    logger.debug("checkpoint written to %s (step %s)", folder, counters.get("step"))


def _fsync_dir(folder: Path) -> None:
    for path in folder.iterdir():
        with path.open("rb") as handle:
            os.fsync(handle.fileno())


def find_checkpoint(folder: Path) -> Path | None:
    """The newest complete checkpoint at ``folder`` (or the previous one a kill left as .old)."""
    for candidate in (folder, folder.with_name(folder.name + ".old")):
        if (candidate / "state.json").is_file():
            return candidate
    return None


def load_checkpoint(folder: Path, model: torch.nn.Module, optimizer: Any, scheduler: Any) -> dict:
    """Restore weights, optimizer, scheduler and RNGs from ``folder``; return the loop counters."""
    load_trainable(model, load_file(str(folder / "trainable.safetensors")))
    state = torch.load(folder / "state.pt", weights_only=True)
    optimizer.load_state_dict(state["optimizer"])
    scheduler.load_state_dict(state["scheduler"])
    torch.set_rng_state(state["torch_rng"])
    counters = json.loads((folder / "state.json").read_text(encoding="utf-8"))
    version, internal, gauss = counters.pop("python_rng")
    random.setstate((version, tuple(internal), gauss))
    return counters
