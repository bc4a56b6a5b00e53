"""Pruning: magnitude (unstructured) and structured (attention heads, FFN neurons).

``prune-magnitude`` zeroes the smallest weights of every encoder Linear
(``torch.nn.utils.prune``, then made permanent). The zeros are stored densely, so the
model is no smaller or faster on CPU by itself; it is the input for sparse runtimes.

``prune-structured`` removes whole attention heads and FFN neurons from a BERT-style
encoder, so its layers are physically smaller. Importance is the first-order Taylor
score |w * dL/dw| summed over each head's / neuron's weights (Michel et al., 2019),
on calibration texts (training texts when given), with the training labels or else the
model's own predictions as targets. Each layer keeps the same fraction, best first.
With training texts, a short distillation from the unpruned model then wins back
accuracy (``recover_s`` seconds, default 60; 0 turns it off).
"""

from __future__ import annotations

import logging
from pathlib import Path

import torch
from torch import nn

from tamellm.compression.base import CompressContext, CompressionError, Compressor, register_compressor
from tamellm.compression.folders import load_source, require_fp32_layers, save_model
from tamellm.models.compressed_loader import encoder_layers, shrink_layer

log = logging.getLogger(__name__)


def encoder_linears(model: nn.Module) -> list[tuple[str, nn.Linear]]:
    """Every nn.Linear inside the encoder blocks (the head and pooler are left alone)."""
    return [(n, m) for n, m in model.named_modules() if isinstance(m, nn.Linear) and ".layer." in n]


@register_compressor("prune-magnitude")
class MagnitudePruning(Compressor):
    """Zero the ``amount`` (default 0.3) smallest-magnitude encoder weights, globally."""

    description = "unstructured magnitude pruning (zeros, same size)"

    def run(self, source: Path, out: Path, ctx: CompressContext) -> dict:
        from torch.nn.utils import prune

        loaded, transforms = load_source(source, self.name)
        require_fp32_layers(transforms, self.name, source)
        amount = float(self.params.get("amount", 0.3))
        linears = encoder_linears(loaded.model)
        if not linears:
            raise CompressionError(f"Method '{self.name}' found no encoder Linear layers in {source}")
        params = [(m, "weight") for _, m in linears]
        prune.global_unstructured(params, pruning_method=prune.L1Unstructured, amount=amount)
        for module, name in params:
            prune.remove(module, name)
        save_model(loaded, out, transforms, {"method": self.name, "amount": amount})
        return {"amount": amount, "layers": len(params)}


def taylor_scores(model: nn.Module, tokenizer, texts: list[str], labels: list[int] | None,
                  max_length: int, batch_size: int = 16) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Per layer: (head scores [heads], FFN neuron scores [ffn]) by |w * grad| summed."""
    layers = encoder_layers(model)
    model.eval()
    model.zero_grad()
    with torch.enable_grad():
        for start in range(0, len(texts), batch_size):
            batch = tokenizer(texts[start:start + batch_size], truncation=True, max_length=max_length,
                              padding=True, return_tensors="pt")
            logits = model(**batch).logits
            target = (torch.tensor(labels[start:start + batch_size]) if labels is not None
                      else logits.argmax(-1).detach())
            nn.functional.cross_entropy(logits, target).backward()
    scores = []
    for layer in layers:
        attn = layer.attention.self
        dim = attn.attention_head_size
        head = sum((m.weight * m.weight.grad).abs().sum(1).view(-1, dim).sum(1)
                   for m in (attn.query, attn.key, attn.value))
        out = layer.attention.output.dense
        head = head + (out.weight * out.weight.grad).abs().sum(0).view(-1, dim).sum(1)
        up, down = layer.intermediate.dense, layer.output.dense
        ffn = (up.weight * up.weight.grad).abs().sum(1) + (down.weight * down.weight.grad).abs().sum(0)
        scores.append((head.detach(), ffn.detach()))
    model.zero_grad()
    return scores


def prune_layer(layer: nn.Module, heads: list[int], neurons: list[int]) -> None:
    """Keep only the given heads and FFN neurons of one BERT-style block."""
    attn = layer.attention.self
    dim = attn.attention_head_size
    rows = torch.tensor([h * dim + i for h in heads for i in range(dim)])
    keep = torch.tensor(neurons)
    old = {"q": attn.query, "k": attn.key, "v": attn.value, "o": layer.attention.output.dense,
           "up": layer.intermediate.dense, "down": layer.output.dense}
    shrink_layer(layer, len(heads), len(neurons))
    new = {"q": attn.query, "k": attn.key, "v": attn.value, "o": layer.attention.output.dense,
           "up": layer.intermediate.dense, "down": layer.output.dense}
    with torch.no_grad():
        for key in ("q", "k", "v"):
            new[key].weight.copy_(old[key].weight[rows])
            new[key].bias.copy_(old[key].bias[rows])
        new["o"].weight.copy_(old["o"].weight[:, rows])
        new["o"].bias.copy_(old["o"].bias)
        new["up"].weight.copy_(old["up"].weight[keep])
        new["up"].bias.copy_(old["up"].bias[keep])
        new["down"].weight.copy_(old["down"].weight[:, keep])
        new["down"].bias.copy_(old["down"].bias)


@register_compressor("prune-structured")
class StructuredPruning(Compressor):
    """Keep ``heads`` (default 0.75) of the attention heads and ``ffn`` (default 0.5) of the FFN neurons."""

    description = "structured pruning of attention heads and FFN neurons (smaller layers)"

    def run(self, source: Path, out: Path, ctx: CompressContext) -> dict:
        loaded, transforms = load_source(source, self.name)
        require_fp32_layers(transforms, self.name, source)
        model = loaded.model
        layers = encoder_layers(model)
        if not layers or loaded.resolved.task != "classify":
            raise CompressionError(
                f"Method '{self.name}' cannot prune {source} ({type(model).__name__})",
                "structured pruning supports BERT-style encoder classifiers (BERT, MiniLM, RoBERTa, ...)")
        head_ratio, ffn_ratio = float(self.params.get("heads", 0.75)), float(self.params.get("ffn", 0.5))
        torch.manual_seed(ctx.seed)
        calib = ctx.calibration_texts(int(self.params.get("calibration", 256)))
        labels = ctx.train_labels[:len(calib)] if ctx.train_texts and ctx.train_labels else None
        scores = taylor_scores(model, loaded.tokenizer, calib, labels, ctx.max_length)
        sizes = {}
        for index, (layer, (head_score, ffn_score)) in enumerate(zip(layers, scores, strict=True)):
            n_heads = max(1, round(head_ratio * len(head_score)))
            n_ffn = max(1, round(ffn_ratio * len(ffn_score)))
            heads = sorted(head_score.topk(n_heads).indices.tolist())
            neurons = sorted(ffn_score.topk(n_ffn).indices.tolist())
            prune_layer(layer, heads, neurons)
            sizes[str(index)] = {"heads": n_heads, "ffn": n_ffn}
        recovery = self._recover(source, model, loaded.tokenizer, ctx)
        transforms.append({"method": "prune-structure", "params": {"layers": sizes}})
        save_model(loaded, out, transforms, {"recovery": recovery})
        return {"heads_kept": head_ratio, "ffn_kept": ffn_ratio, "layers": sizes, "recovery": recovery}

    def _recover(self, source: Path, model: nn.Module, tokenizer, ctx: CompressContext) -> dict | None:
        """Win back accuracy: distil the unpruned model into the pruned one for ``recover_s`` seconds
        (default 60) when training texts are given."""
        from tamellm.compression.distill import train_student

        budget = float(self.params.get("recover_s", 60.0))
        if budget <= 0 or not ctx.train_texts:
            return None
        teacher, _ = load_source(source, self.name)
        options = {"budget_s": budget, "max_steps": self.params.get("recover_steps", 10**9)}
        return train_student(teacher.model.eval(), model, tokenizer, ctx, options)
