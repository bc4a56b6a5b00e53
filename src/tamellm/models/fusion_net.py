"""Image + text fusion heads: two frozen encoders' features in, a label out.

``concat``: [image; text] -> MLP. ``gated``: each modality projected to a shared size, mixed by a
learned per-dimension gate sigmoid(W [image; text]) (it learns how much to trust each), then a
linear layer. ``modalities`` "image" or "text" trains the same head with the other input zeroed
(the single-modality baselines fusion is compared with). A ``fusion`` folder holds only the head
(``model.safetensors``) and names its encoders in ``config.json``.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import torch

from tamellm.errors import InputError, ModelFormatError
from tamellm.models.image_net import LEGACY_ACTIVATION
from tamellm.models.loaders import LOADERS, LoadedModel
from tamellm.models.resolve import ResolvedModel

MODEL_TYPE = "tamellm-image-text-fusion"
MODES = ("concat", "gated")
MODALITIES = ("both", "image", "text")


class FusionHead(torch.nn.Module):
    """Fuses an image feature [B, image_dim] and a text feature [B, text_dim] into logits [B, num_classes]."""

    def __init__(self, image_dim: int, text_dim: int, num_classes: int, mode: str = "concat", hidden: int = 256,
                 modalities: str = "both", dropout: float = 0.1) -> None:
        super().__init__()
        if mode not in MODES:
            raise InputError(f"Unknown fusion mode '{mode}'", f"accepted: {', '.join(MODES)}")
        if modalities not in MODALITIES:
            raise InputError(f"Unknown modalities '{modalities}'", f"accepted: {', '.join(MODALITIES)}")
        self.image_dim, self.text_dim, self.num_classes = image_dim, text_dim, num_classes
        self.mode, self.hidden, self.modalities = mode, hidden, modalities
        self.image_norm = torch.nn.LayerNorm(image_dim)  # the two encoders' scales differ by orders of magnitude
        self.text_norm = torch.nn.LayerNorm(text_dim)
        if mode == "concat":
            self.mlp = torch.nn.Sequential(torch.nn.Linear(image_dim + text_dim, hidden), torch.nn.ReLU(),
                                           torch.nn.Dropout(dropout), torch.nn.Linear(hidden, num_classes))
        else:
            self.image_proj = torch.nn.Linear(image_dim, hidden)
            self.text_proj = torch.nn.Linear(text_dim, hidden)
            self.gate = torch.nn.Linear(image_dim + text_dim, hidden)
            self.out = torch.nn.Sequential(torch.nn.ReLU(), torch.nn.Dropout(dropout),
                                           torch.nn.Linear(hidden, num_classes))

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        """``features`` is [image; text] concatenated, [B, image_dim + text_dim]."""
        image = self.image_norm(features[:, : self.image_dim])
        text = self.text_norm(features[:, self.image_dim:])
        if self.modalities == "image":
            text = torch.zeros_like(text)
        elif self.modalities == "text":
            image = torch.zeros_like(image)
        both = torch.cat([image, text], dim=-1)
        if self.mode == "concat":
            return self.mlp(both)
        gate = torch.sigmoid(self.gate(both))
        return self.out(gate * self.image_proj(image) + (1 - gate) * self.text_proj(text))

    def config(self, labels: list[str], encoders: dict) -> dict:
        """What ``config.json`` records to rebuild this head."""
        return {"model_type": MODEL_TYPE, "image_dim": self.image_dim, "text_dim": self.text_dim,
                "num_classes": self.num_classes, "mode": self.mode, "hidden": self.hidden,
                "modalities": self.modalities, "id2label": {str(i): x for i, x in enumerate(labels)}, **encoders}


def save_fusion_model(head: FusionHead, folder: Path, labels: list[str], encoders: dict, manifest: dict) -> Path:
    """Write a ``fusion`` folder (atomically)."""
    from safetensors.torch import save_file

    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}-"))
    save_file({k: v.detach().contiguous() for k, v in head.state_dict().items()}, tmp / "model.safetensors")
    (tmp / "config.json").write_text(json.dumps(head.config(labels, encoders), indent=2), encoding="utf-8")
    (tmp / "tamellm.json").write_text(json.dumps({**manifest, "task": "image-text-classify", "kind": "fusion",
                                                  "labels": labels}, indent=2), encoding="utf-8")
    if folder.exists():
        shutil.rmtree(folder)
    os.replace(tmp, folder)
    return folder


@LOADERS.register("fusion")
def _load_fusion(resolved: ResolvedModel) -> LoadedModel:
    from safetensors.torch import load_file

    folder = Path(resolved.path)
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    if config.get("model_type") != MODEL_TYPE:
        raise ModelFormatError(f"{folder} is not a tamellm fusion model",
                               f"its config.json needs model_type {MODEL_TYPE}")
    head = FusionHead(config["image_dim"], config["text_dim"], config["num_classes"], config["mode"],
                      config["hidden"], config["modalities"])
    head.load_state_dict(load_file(folder / "model.safetensors"))
    head.eval()
    head.labels = [config["id2label"][str(i)] for i in range(config["num_classes"])]
    # Folders written before the image network's activation was recorded were trained on Swish features.
    head.encoders = {"image_model": config.get("image_model"), "text_model": config.get("text_model"),
                     "image_activation": config.get("image_activation", LEGACY_ACTIVATION)}
    return LoadedModel(resolved, head, None)
