"""A classifier that reads a sentence embedding: mean-pooled encoder output (optionally L2-normalised) + a linear head.

One class per encoder family (BERT: MiniLM, E5; MPNet: all-mpnet-base-v2), all in ``FAMILIES``.

sentence-transformers checkpoints such as the packaged MiniLM are trained to be read by
mean pooling over the tokens; their [CLS] pooler was never trained, so
``BertForSequenceClassification`` on a frozen MiniLM body reads noise (head-only and
few-shot sat near chance). transformers has no mean-pooling classification head and
sentence-transformers / setfit heads are not transformers models (no ``save_pretrained``
folder), hence this small class. It is registered with the Auto classes
(``ensure_registered``), so a saved folder loads with
``AutoModelForSequenceClassification.from_pretrained`` and predict, explain, compress and
serve treat it as any transformers classifier.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn
from transformers import (
    AutoConfig,
    AutoModel,
    AutoModelForSequenceClassification,
    BertConfig,
    BertModel,
    MPNetConfig,
    MPNetModel,
)
from transformers.modeling_outputs import SequenceClassifierOutput
from transformers.models.bert.modeling_bert import BertPreTrainedModel
from transformers.models.mpnet.modeling_mpnet import MPNetPreTrainedModel

MODEL_TYPE = "tamellm-mean-pooling-bert"
_REGISTERED = threading.Event()


class MeanPoolingBertConfig(BertConfig):
    """A BERT config plus ``normalize_embeddings`` (L2-normalise the pooled vector, as sentence-transformers does)."""

    model_type = MODEL_TYPE

    def __init__(self, normalize_embeddings: bool = True, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.normalize_embeddings = normalize_embeddings


class MeanPoolingMPNetConfig(MPNetConfig):
    """An MPNet config plus ``normalize_embeddings`` (all-mpnet-base-v2 and its kin)."""

    model_type = "tamellm-mean-pooling-mpnet"

    def __init__(self, normalize_embeddings: bool = True, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.normalize_embeddings = normalize_embeddings


class MeanPoolingBertModel(BertModel):
    """The bare encoder of a mean-pooling folder (what ``AutoModel`` gives, e.g. for ``tamellm.embed``)."""

    config_class = MeanPoolingBertConfig


class MeanPoolingMPNetModel(MPNetModel):
    """The bare MPNet encoder of a mean-pooling folder."""

    config_class = MeanPoolingMPNetConfig


class _MeanPoolingHead:
    """Mean pooling + dropout + linear head over ``self.<base_model_prefix>`` (shared by every body family)."""

    config: Any
    takes_token_type_ids = True  # MPNet has no segment embeddings

    def _init_head(self, config: Any, body: nn.Module) -> None:
        self.num_labels = config.num_labels
        setattr(self, self.base_model_prefix, body)
        dropout = getattr(config, "classifier_dropout", None)
        self.dropout = nn.Dropout(dropout if dropout is not None else config.hidden_dropout_prob)
        self.classifier = nn.Linear(config.hidden_size, config.num_labels)
        self.post_init()

    def _body(self, **inputs: Any) -> Any:
        if not self.takes_token_type_ids:
            inputs.pop("token_type_ids", None)
        return getattr(self, self.base_model_prefix)(**inputs)

    def sentence_embedding(self, attention_mask: torch.Tensor | None = None, **inputs: Any) -> torch.Tensor:
        """The pooled (and, per the config, normalised) sentence vector the head reads."""
        return self._pool(self._body(attention_mask=attention_mask, **inputs), attention_mask)

    def _pool(self, outputs: Any, attention_mask: torch.Tensor | None) -> torch.Tensor:
        hidden = outputs.last_hidden_state
        if attention_mask is None:
            attention_mask = torch.ones(hidden.shape[:2], dtype=hidden.dtype, device=hidden.device)
        mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
        if self.config.normalize_embeddings:
            pooled = nn.functional.normalize(pooled, dim=-1)
        return pooled

    def forward(self, input_ids: torch.Tensor | None = None, attention_mask: torch.Tensor | None = None,
                token_type_ids: torch.Tensor | None = None, inputs_embeds: torch.Tensor | None = None,
                labels: torch.Tensor | None = None, **kwargs: Any) -> SequenceClassifierOutput:
        """Same inputs and outputs as ``BertForSequenceClassification`` (loss by ``config.problem_type``)."""
        outputs = self._body(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids,
                             inputs_embeds=inputs_embeds, **kwargs)
        logits = self.classifier(self.dropout(self._pool(outputs, attention_mask)))
        loss = None if labels is None else self._loss(logits, labels)
        return SequenceClassifierOutput(loss=loss, logits=logits, hidden_states=outputs.hidden_states,
                                        attentions=outputs.attentions)

    def _loss(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        if self.config.problem_type == "multi_label_classification":
            return nn.functional.binary_cross_entropy_with_logits(logits, labels.to(logits.dtype))
        if self.config.problem_type == "regression" or self.num_labels == 1:
            return nn.functional.mse_loss(logits.squeeze(-1), labels.to(logits.dtype).squeeze(-1))
        return nn.functional.cross_entropy(logits.view(-1, self.num_labels), labels.view(-1))


class MeanPoolingBertForSequenceClassification(_MeanPoolingHead, BertPreTrainedModel):
    """BERT body without its [CLS] pooler; logits = classifier(dropout(mean-pooled tokens))."""

    config_class = MeanPoolingBertConfig

    def __init__(self, config: MeanPoolingBertConfig) -> None:
        BertPreTrainedModel.__init__(self, config)
        self._init_head(config, BertModel(config, add_pooling_layer=False))


class MeanPoolingMPNetForSequenceClassification(_MeanPoolingHead, MPNetPreTrainedModel):
    """MPNet body without its pooler; logits = classifier(dropout(mean-pooled tokens))."""

    config_class = MeanPoolingMPNetConfig
    takes_token_type_ids = False

    def __init__(self, config: MeanPoolingMPNetConfig) -> None:
        MPNetPreTrainedModel.__init__(self, config)
        self._init_head(config, MPNetModel(config, add_pooling_layer=False))


@dataclass(frozen=True)
class PooledFamily:
    """The classes of one encoder family that tamellm mean-pools (keyed by the base's ``model_type``)."""

    base_config: type
    config: type
    model: type
    classifier: type
    # The layers LoRA adapts (peft's own default for the base type, which it does not know under our
    # model_type); None: peft has none either, the user names them (lora_target_modules).
    lora_targets: tuple[str, ...] | None = None


FAMILIES: dict[str, PooledFamily] = {
    "bert": PooledFamily(BertConfig, MeanPoolingBertConfig, MeanPoolingBertModel,
                         MeanPoolingBertForSequenceClassification, ("query", "value")),
    "mpnet": PooledFamily(MPNetConfig, MeanPoolingMPNetConfig, MeanPoolingMPNetModel,
                          MeanPoolingMPNetForSequenceClassification),
}
MODEL_TYPES = tuple(family.config.model_type for family in FAMILIES.values())


def lora_targets(model_type: str) -> list[str] | None:
    """The LoRA target modules of a mean-pooling ``model_type`` (None for any other model: peft decides)."""
    family = next((f for f in FAMILIES.values() if f.config.model_type == model_type), None)
    return list(family.lora_targets) if family is not None and family.lora_targets else None


def ensure_registered() -> None:
    """Teach the transformers Auto classes the mean-pooling folder types (once per process)."""
    if _REGISTERED.is_set():
        return
    for family in FAMILIES.values():
        AutoConfig.register(family.config.model_type, family.config, exist_ok=True)
        AutoModel.register(family.config, family.model, exist_ok=True)
        AutoModelForSequenceClassification.register(family.config, family.classifier, exist_ok=True)
    _REGISTERED.set()


def sentence_pooling(base: Path) -> dict | None:
    """How a sentence-transformers folder pools, if it mean-pools a body of ``FAMILIES``: ``{"normalize": bool}``.

    None for any other folder.

    Reads ``modules.json`` and the Pooling module's ``config.json`` (the sentence-transformers layout).
    """
    try:
        modules = json.loads((base / "modules.json").read_text(encoding="utf-8"))
        model_type = json.loads((base / "config.json").read_text(encoding="utf-8")).get("model_type")
    except (OSError, ValueError):
        return None
    types = {m.get("type", "").rsplit(".", 1)[-1]: m.get("path", "") for m in modules if isinstance(m, dict)}
    if "Pooling" not in types or model_type not in FAMILIES:
        return None
    try:
        pooling = json.loads((base / types["Pooling"] / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not pooling.get("pooling_mode_mean_tokens"):
        return None
    return {"normalize": "Normalize" in types}


def build_mean_pooling_classifier(base: Path, normalize: bool, ignore_mismatched_sizes: bool = True,
                                  **config_kwargs: Any) -> nn.Module:
    """A mean-pooling classifier on the encoder weights of ``base`` (a fresh linear head).

    ``config_kwargs`` (num_labels, id2label, problem_type …) go into the config.
    """
    ensure_registered()
    family = FAMILIES[json.loads((base / "config.json").read_text(encoding="utf-8"))["model_type"]]
    fields = {k: v for k, v in family.base_config.from_pretrained(base).to_dict().items() if k != "model_type"}
    config = family.config(**{**fields, **config_kwargs, "normalize_embeddings": normalize})
    return family.classifier.from_pretrained(
        base, config=config, use_safetensors=True, ignore_mismatched_sizes=ignore_mismatched_sizes)
