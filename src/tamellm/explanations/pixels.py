"""Pixel attributions for image classifiers: occlusion or integrated gradients (captum), as a heat map.

Duck-typed like the word explainers: the model object needs ``model`` (a module from
network inputs to logits), ``pixels(images)`` (PIL images -> network inputs) and ``labels``.
The heat map is at the network's resolution; ``regions`` and the rendered overlay map it
back onto the original image's pixels, so a user sees which part of the picture decided.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from tamellm.errors import InputError
from tamellm.registry import Registry

PIXEL_METHODS: Registry[Any] = Registry("pixel_explainers", "pixel attribution method")
GRID = 14  # the JSON heat map is GRID x GRID cells (the network's 224 px / 16)


@dataclass
class PixelExplanation:
    """Which pixels pushed the model toward ``label``: ``heat`` [H, W] (positive = toward the label)."""

    image: str
    label: str
    method: str
    probabilities: dict[str, float]
    heat: np.ndarray
    size: tuple[int, int]  # the original image's (width, height)
    seconds: float = 0.0
    model: str = ""
    extra: dict = field(default_factory=dict)

    def grid(self, cells: int = GRID) -> list[list[float]]:
        """The heat map averaged into ``cells`` x ``cells`` (rows top to bottom), scaled to [-1, 1]."""
        h, w = self.heat.shape
        pooled = self.heat[: h - h % cells, : w - w % cells].reshape(cells, h // cells, cells, w // cells).mean((1, 3))
        top = float(np.abs(pooled).max()) or 1.0
        return np.round(pooled / top, 4).tolist()

    def regions(self, count: int = 5, cells: int = GRID) -> list[dict]:
        """The ``count`` grid cells that pushed most toward the label, as boxes in the original image's pixels."""
        grid = np.asarray(self.grid(cells))
        width, height = self.size
        order = np.argsort(grid.reshape(-1))[::-1][:count]
        boxes = []
        for index in order:
            row, col = divmod(int(index), cells)
            boxes.append({"box": [round(col * width / cells, 1), round(row * height / cells, 1),
                                  round((col + 1) * width / cells, 1), round((row + 1) * height / cells, 1)],
                          "score": float(grid[row, col])})
        return boxes

    def to_dict(self) -> dict:
        """JSON-ready: label, method, probabilities, the heat grid and the strongest regions."""
        return {"image": self.image, "label": self.label, "method": self.method, "model": self.model,
                "probabilities": self.probabilities, "size": list(self.size), "grid": self.grid(),
                "regions": self.regions(), "seconds": round(self.seconds, 3)}

    def render(self, original: Any, path: str | Path | None = None, alpha: float = 0.55) -> Any:
        """The image in grey with the heat map over it (red: toward the label, blue: against); saved when ``path``."""
        from PIL import Image

        grey = np.asarray(original.convert("L").convert("RGB"), dtype=np.float32)
        top = float(np.abs(self.heat).max()) or 1.0
        heat = Image.fromarray(((self.heat / top) * 127.5 + 127.5).clip(0, 255).astype(np.uint8))
        scaled = np.asarray(heat.resize(original.size, Image.BILINEAR), dtype=np.float32) / 127.5 - 1.0
        color = np.zeros_like(grey)
        color[..., 0] = np.clip(scaled, 0, 1) * 255
        color[..., 2] = np.clip(-scaled, 0, 1) * 255
        weight = (np.abs(scaled) * alpha)[..., None]
        blended = Image.fromarray((grey * (1 - weight) + color * weight).clip(0, 255).astype(np.uint8))
        if path is not None:
            blended.save(path)
        return blended


@PIXEL_METHODS.register("occlusion")
def _occlusion(forward: Any, pixels: torch.Tensor, target: int, window: int = 56, stride: int = 28) -> torch.Tensor:
    """How much the label's probability drops when a window of pixels is painted in the image's mean colour
    (no gradients needed; 7 x 7 windows at 224 px by default)."""
    from captum.attr import Occlusion

    return Occlusion(forward).attribute(pixels, target=target, sliding_window_shapes=(3, window, window),
                                        strides=(3, stride, stride), baselines=_mean_colour(pixels),
                                        perturbations_per_eval=16)


def _mean_colour(pixels: torch.Tensor) -> torch.Tensor:
    """The baseline: each image filled with its own mean colour. A fixed grey would itself look like an
    object on a light or dark background; the mean colour removes what is there without adding a shape."""
    return pixels.mean((2, 3), keepdim=True).expand_as(pixels).contiguous()


@PIXEL_METHODS.register("integrated-gradients")
def _integrated_gradients(forward: Any, pixels: torch.Tensor, target: int, steps: int = 32) -> torch.Tensor:
    """Gradients along the path from the image's mean colour to the image, times the pixel change."""
    from captum.attr import IntegratedGradients

    return IntegratedGradients(forward).attribute(pixels, baselines=_mean_colour(pixels), target=target,
                                                  n_steps=steps, internal_batch_size=8)


def explain_pixels(task_model: Any, image: Any, method: str | None = None, label: str | int | None = None,
                   name: str = "", **options: Any) -> PixelExplanation:
    """Explain an image classifier's answer on one PIL image (default method: occlusion)."""
    method = method or "occlusion"
    attribute = PIXEL_METHODS[method]
    labels = list(task_model.labels)
    network = task_model.model
    pixels = task_model.pixels([image])
    start = time.perf_counter()

    def forward(x: torch.Tensor) -> torch.Tensor:
        return network(x).float().softmax(-1)

    with torch.no_grad():
        probs = forward(pixels)[0].tolist()
    if label is None:
        target = int(np.argmax(probs))
    elif isinstance(label, int) and 0 <= label < len(labels):
        target = label
    elif str(label) in labels:
        target = labels.index(str(label))
    else:
        raise InputError(f"Label {label!r} is not one of the model's labels", f"labels: {', '.join(labels)}")
    was_training = network.training
    network.eval()
    try:
        scores = attribute(forward, pixels, target, **options)
    finally:
        network.train(was_training)
    heat = scores.detach()[0].sum(0).numpy()
    return PixelExplanation(name, labels[target], method, dict(zip(labels, [round(p, 5) for p in probs], strict=True)),
                            heat, tuple(image.size), time.perf_counter() - start)
