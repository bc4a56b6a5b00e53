"""Sentence embeddings: mean-pooled, L2-normalised encoder outputs."""

from __future__ import annotations

import numpy as np
import torch

from tamellm.batching import least_padding_batches
from tamellm.inputs import as_text_list
from tamellm.results import Embeddings
from tamellm.tasks.base import TaskModel
from tamellm.tasks.onnx_twin import onnx_info
from tamellm.tasks.spec import TaskSpec, register_task


class EmbeddingModel(TaskModel):
    """Turns texts into vectors; similar meanings give close vectors."""

    max_length = 256

    def _encoder(self) -> torch.nn.Module:
        # A fine-tuned classifier folder still embeds through its base encoder.
        base = getattr(self.model, "base_model", self.model)
        return base if base is not None else self.model

    @torch.inference_mode()
    def encode(self, texts: list[str], batch_size: int = 64, normalize: bool = True) -> np.ndarray:
        """Embed texts in length-sorted batches; rows follow the input order."""
        max_length = min(self.max_length, self.tokenizer.model_max_length)
        encoded = self.tokenizer(texts, truncation=True, max_length=max_length)
        lengths = [len(ids) for ids in encoded["input_ids"]]
        dim = self.model.config.hidden_size
        out = np.zeros((len(texts), dim), dtype=np.float32)
        encoder = self._encoder()
        for indices in least_padding_batches(lengths, batch_size):
            features = [{k: encoded[k][i] for k in encoded.keys()} for i in indices]
            batch = self.tokenizer.pad(features, return_tensors="pt")
            hidden = encoder(**batch).last_hidden_state
            mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            if normalize:
                pooled = torch.nn.functional.normalize(pooled, dim=-1)
            out[indices] = pooled.float().numpy()
        return out

    def predict(self, inputs: str | list[str], batch_size: int = 64, normalize: bool = True) -> Embeddings:
        """Embed one text or a list of texts."""
        texts, _ = as_text_list(inputs)
        return Embeddings(texts, self.encode(texts, batch_size, normalize), self.name)

    def similarity(self, a: str | list[str], b: str | list[str]) -> float | np.ndarray:
        """Cosine similarity: a float for two texts, a matrix for two lists."""
        left, single_left = as_text_list(a)
        right, single_right = as_text_list(b)
        vectors = self.encode(left + right)
        matrix = vectors[: len(left)] @ vectors[len(left) :].T
        if single_left and single_right:
            return float(matrix[0, 0])
        return matrix


class OnnxEmbeddingModel(EmbeddingModel):
    """An encoder exported to ONNX (``backend="onnxruntime"``, the server's default): the same pooling."""

    def info(self) -> dict:
        """What this model is, with the backend and the parity measured at export."""
        return onnx_info(super().info(), self.loaded.resolved)


register_task(TaskSpec(
    name="embed", description="text -> a vector (sentence embedding)",
    models={"encoder": EmbeddingModel, "transformers": EmbeddingModel, "onnx": OnnxEmbeddingModel},
    also_serves=("zero-shot-classification",),
))
