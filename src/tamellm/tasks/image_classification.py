"""Image classification: EfficientNet-Lite0 folders (``image`` kind) fine-tuned by tamellm; pixels in, labels out."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch

from tamellm.data.schemas import DATA_SCHEMAS, DataSchema
from tamellm.errors import DataError, InputError
from tamellm.models import image_net  # noqa: F401 - registers the "image" folder loader
from tamellm.results import Classification
from tamellm.tasks.base import TaskModel
from tamellm.tasks.spec import TaskSpec, register_task

ImageInput = str | os.PathLike | Any  # a path or a PIL image


def open_images(inputs: ImageInput | list[ImageInput]) -> tuple[list[Any], list[str], bool]:
    """(PIL images, names, single) from a path, a PIL image or a list of them; paths are size-checked."""
    from tamellm.media.image import open_image

    single = not isinstance(inputs, list | tuple)
    items = [inputs] if single else list(inputs)
    if not items:
        raise InputError("No image given", "pass an image path (png, jpg, webp) or a list of them")
    images, names = [], []
    for i, item in enumerate(items):
        if isinstance(item, str | os.PathLike):
            path = Path(item)
            if not path.is_file():
                raise InputError(f"Image {path} not found", "pass the path of a png, jpg or webp file")
            images.append(open_image(path))
            names.append(str(path))
        elif hasattr(item, "convert") and hasattr(item, "size"):
            images.append(item.convert("RGB"))
            names.append(f"image {i + 1}")
        else:
            raise InputError(f"Image #{i + 1} is a {type(item).__name__}", "pass paths or PIL images")
    return images, names, single


class ImageClassifier(TaskModel):
    """A fine-tuned EfficientNet-Lite0: ``predict(paths or PIL images)`` gives a ``Classification`` per image
    whose ``text`` is the image's file name (the pixels, not a text, were read)."""

    explain_hint = ("an image classifier is explained over pixels, not words: tamellm explain MODEL --input "
                    "IMAGE (tamellm.explain_image)")

    @property
    def labels(self) -> list[str]:
        """The classes, in the head's order."""
        return list(self.model.labels)

    def pixels(self, images: list[Any]) -> torch.Tensor:
        """The network's input for PIL images."""
        from tamellm.models.image_net import pixels_of

        return pixels_of(images, self.model.image_size)

    @torch.inference_mode()
    def probabilities(self, pixels: torch.Tensor, batch_size: int = 32) -> torch.Tensor:
        """Softmax over the labels for a batch of network inputs."""
        return torch.cat([self.model(pixels[i:i + batch_size]).float().softmax(-1)
                          for i in range(0, len(pixels), batch_size)])

    def predict(self, inputs: ImageInput | list[ImageInput], batch_size: int = 32) -> Any:
        """The label of each image, with a score for every label (highest first)."""
        images, names, single = open_images(inputs)
        probs = self.probabilities(self.pixels(images), batch_size)
        results = []
        for name, row in zip(names, probs.tolist(), strict=True):
            scores = dict(sorted(zip(self.labels, row, strict=True), key=lambda kv: -kv[1]))
            results.append(Classification(name, next(iter(scores)), {k: round(v, 5) for k, v in scores.items()}))
        return results[0] if single else results

    def explain(self, inputs: ImageInput | list[ImageInput], method: str | None = None, label: str | int | None = None,
                **options: Any) -> Any:
        """Which pixels decided (occlusion or integrated gradients): a ``PixelExplanation`` per image."""
        from tamellm.explanations.pixels import explain_pixels

        options.pop("all_labels", None)  # one heat map per call: the label asked for, or the prediction
        images, names, single = open_images(inputs)
        explained: Any = self
        if method == "integrated-gradients" and hasattr(self.model, "torch_net"):  # ONNX has no gradients
            explained = _Network(self.model.torch_net, self.labels, self.pixels)
        results = []
        for image, name in zip(images, names, strict=True):
            explanation = explain_pixels(explained, image, method=method, label=label, name=name, **options)
            explanation.model = self.name
            results.append(explanation)
        return results[0] if single else results

    def features(self, inputs: ImageInput | list[ImageInput], batch_size: int = 32) -> torch.Tensor:
        """The 1280-d feature of each image (what fusion reads)."""
        images, _, _ = open_images(inputs if isinstance(inputs, list) else [inputs])
        pixels = self.pixels(images)
        with torch.inference_mode():
            return torch.cat([self.model.features(pixels[i:i + batch_size]) for i in range(0, len(pixels), batch_size)])


class _Network:
    """What ``explain_pixels`` reads (model, labels, pixels) for another network of the same classifier."""

    def __init__(self, model: Any, labels: list[str], pixels: Any) -> None:
        self.model, self.labels, self.pixels = model, labels, pixels


def describe_images(data: str | os.PathLike, text_column: str | None = None, label_column: str | None = None) -> dict:
    """What ``tamellm train`` prints about image data: classes and images of a folder, or a CSV's rows."""
    from tamellm.media import IMAGE_SUFFIXES

    source = Path(data)
    if source.is_dir():
        counts = {sub.name: sum(p.suffix.lower() in IMAGE_SUFFIXES for p in sub.iterdir())
                  for sub in sorted(source.iterdir()) if sub.is_dir()}
        counts = {k: v for k, v in counts.items() if v}
        if not counts:
            raise DataError(f"{source} has no class folders with images",
                            "put each class's images (png, jpg, webp) in a sub-folder named after the class")
        return {"text": "image files", "label": "folder name", "reason_text": "a sub-folder per class",
                "reason_label": "each sub-folder's name is its class",
                "notes": [f"{source}: {sum(counts.values())} images in {len(counts)} classes (" +
                          ", ".join(f"{k} {v}" for k, v in counts.items()) + ")"]}
    import pandas as pd

    if not source.is_file():
        raise DataError(f"Image data {source} not found",
                        "pass a folder (a sub-folder per class) or a CSV of path,label")
    frame = pd.read_csv(source, sep="\t" if source.suffix.lower() == ".tsv" else ",")
    return {"text": "path", "label": "label", "reason_text": "image paths", "reason_label": "label column",
            "notes": [f"{source}: {len(frame)} rows"]}


DATA_SCHEMAS.register("image-label", DataSchema("image-label", ("image", "label"),
                                                "a folder with a sub-folder of images per class, or a CSV of "
                                                "path,label", describe_images))

register_task(TaskSpec(
    name="image-classify", description="image -> one of the labels it was trained on (EfficientNet-Lite0)",
    models={"image": ImageClassifier, "image-onnx": ImageClassifier}, data_schema="image-label",
    evaluator="image-classify", adapter="image-classify",
    primary_metric=("accuracy", "max"), auto_strategies=("head-only", "full"), default_strategy="head-only",
))
