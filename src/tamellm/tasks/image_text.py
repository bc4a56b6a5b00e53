"""Image + text classification (fusion): a product photo and its description, a screenshot and its caption.

Both encoders stay frozen: EfficientNet-Lite0's ImageNet features (1280-d) for the image and a
sentence encoder's embedding (MiniLM by default, 384-d) for the text; a small fusion head
(``models/fusion_net.py``) trained by tamellm reads both.
"""

from __future__ import annotations

from typing import Any

import torch

from tamellm.errors import InputError
from tamellm.models import fusion_net  # noqa: F401 - registers the "fusion" folder loader
from tamellm.results import Classification
from tamellm.tasks.base import TaskModel
from tamellm.tasks.spec import TaskSpec, register_task

DEFAULT_TEXT_MODEL = "minilm-l6"


def pair_features(images: list[Any], texts: list[str], text_model: str | None = None,
                  batch_size: int = 32, image_activation: str | None = None) -> torch.Tensor:
    """[image feature; text embedding] per pair, from the frozen encoders (the image network with
    ``image_activation``, default the current one)."""
    from tamellm.models.image_net import ACTIVATION, imagenet_features_net, pixels_of
    from tamellm.tasks.image_classification import open_images
    from tamellm.tasks.loading import load_for_task

    if len(images) != len(texts):
        raise InputError(f"{len(images)} images but {len(texts)} texts", "pass one text per image")
    net = imagenet_features_net(image_activation or ACTIVATION)
    image_rows = []
    for i in range(0, len(images), batch_size):
        opened, _, _ = open_images(list(images[i:i + batch_size]))
        with torch.inference_mode():
            image_rows.append(net.features(pixels_of(opened, net.image_size)).clone())
    vectors = load_for_task("embed", text_model or DEFAULT_TEXT_MODEL).predict(list(texts)).vectors
    return torch.cat([torch.cat(image_rows), torch.as_tensor(vectors, dtype=torch.float)], dim=-1)


class ImageTextClassifier(TaskModel):
    """``predict([(image, text), ...])``: a label per pair from both the picture and the words."""

    explain_hint = "a fusion model is not explainable yet: explain its image or text model on its own"

    @property
    def labels(self) -> list[str]:
        """The classes, in the head's order."""
        return list(self.model.labels)

    def predict(self, inputs: Any, batch_size: int = 32) -> Any:
        """One ``Classification`` per (image, text) pair (or {"image": ..., "text": ...}); ``text`` is the pair's."""
        single = isinstance(inputs, tuple | dict)
        pairs = [inputs] if single else list(inputs)
        if not pairs:
            raise InputError("No (image, text) pair given", "pass [(image_path, text), ...]")
        images = [p["image"] if isinstance(p, dict) else p[0] for p in pairs]
        texts = [p["text"] if isinstance(p, dict) else p[1] for p in pairs]
        features = pair_features(images, texts, self.model.encoders.get("text_model"), batch_size,
                                 self.model.encoders.get("image_activation"))
        with torch.inference_mode():
            probs = self.model(features).float().softmax(-1).tolist()
        results = []
        for text, row in zip(texts, probs, strict=True):
            scores = dict(sorted(zip(self.labels, row, strict=True), key=lambda kv: -kv[1]))
            results.append(Classification(text, next(iter(scores)), {k: round(v, 5) for k, v in scores.items()}))
        return results[0] if single else results


register_task(TaskSpec(
    name="image-text-classify", description="(image, text) pair -> a label, from both (fusion of frozen encoders)",
    models={"fusion": ImageTextClassifier}, adapter="image-text-classify", primary_metric=("accuracy", "max"),
    auto_strategies=("head-only",), default_strategy="head-only",
))
