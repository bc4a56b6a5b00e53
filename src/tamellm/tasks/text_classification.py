"""Supervised text classification with a fine-tuned model folder."""

from __future__ import annotations

import torch

from tamellm.batching import least_padding_batches
from tamellm.inputs import as_text_list
from tamellm.results import Classification
from tamellm.tasks.base import TaskModel
from tamellm.tasks.onnx_twin import onnx_info
from tamellm.tasks.spec import TaskSpec, register_task


class TextClassifier(TaskModel):
    """A sequence-classification model: labels come from its config (id2label)."""

    max_length = 512
    explain_target = "classify"

    @property
    def labels(self) -> list[str]:
        """The label names, in the order of the model's outputs."""
        id2label = self.model.config.id2label
        return [str(id2label[i]) for i in range(len(id2label))]

    @property
    def multi_label(self) -> bool:
        """Whether each label is scored independently (sigmoid) instead of one-of-N."""
        return self.model.config.problem_type == "multi_label_classification"

    @torch.inference_mode()
    def probabilities(self, texts: list[str], batch_size: int = 64) -> torch.Tensor:
        """Label probabilities for each text, rows in input order (length-sorted batches, least padding)."""
        max_length = min(self.max_length, self.tokenizer.model_max_length)
        encoded = self.tokenizer(texts, truncation=True, max_length=max_length)
        out = torch.zeros(len(texts), len(self.labels))
        for indices in least_padding_batches([len(x) for x in encoded["input_ids"]], batch_size):
            batch = self.tokenizer.pad([{k: encoded[k][i] for k in encoded.keys()} for i in indices],
                                       return_tensors="pt")
            logits = self.model(**batch).logits.float()
            out[indices] = torch.sigmoid(logits) if self.multi_label else logits.softmax(-1)
        return out

    def predict(
        self, inputs: str | list[str], labels: object = None, batch_size: int = 64, threshold: float = 0.5
    ) -> Classification | list[Classification]:
        """Classify one text or a list. ``labels`` is ignored: the model knows its labels."""
        texts, single = as_text_list(inputs)
        names = self.labels
        results = []
        for text, row in zip(texts, self.probabilities(texts, batch_size).tolist(), strict=True):
            order = sorted(range(len(names)), key=lambda i: -row[i])
            scores = {names[i]: round(row[i], 6) for i in order}
            chosen = [names[i] for i in order if row[i] >= threshold] if self.multi_label else []
            results.append(Classification(text, names[order[0]], scores, chosen or [names[order[0]]]))
        return results[0] if single else results


class OnnxTextClassifier(TextClassifier):
    """A sequence classifier exported to ONNX (fp32 or int8), run by ONNX Runtime.

    The loader (``models/onnx_loader.py``) wraps the session so that it answers like a
    transformers model: batching, length bucketing and post-processing are shared.
    """

    explain_target = "classify-perturbation"  # no gradients through an ONNX session

    def info(self) -> dict:
        """What this model is, with the backend and the parity measured at export."""
        return onnx_info(super().info(), self.loaded.resolved)


class PeftTextClassifier(TextClassifier):
    """A classifier whose model is a base model with a prompt- or prefix-tuning adapter."""

    # Gradients would flow into the virtual tokens too; removing words (occlusion, LIME, SHAP) stays exact.
    explain_target = "classify-perturbation"


register_task(TaskSpec(
    name="classify", description="text -> one of the labels it was trained on (or several: multi-label)",
    # A compressed folder (int8, low-rank, pruned) loads as an ordinary torch model: same class.
    models={"transformers": TextClassifier, "compressed": TextClassifier, "onnx": OnnxTextClassifier,
            "peft": PeftTextClassifier},
    data_schema="text-label", evaluator="classify", adapter="classify",
    primary_metric=("accuracy", "max"), multi_label_metric=("micro_f1", "max"),
    auto_strategies=("head-only", "lora", "full"), default_strategy="full",
    also_serves=("embed", "zero-shot-classification"),
))
