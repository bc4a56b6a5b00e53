"""Knowledge distillation: a student with fewer layers learns from the fine-tuned teacher.

The student is the teacher's architecture with ``layers`` blocks (default half),
initialised from every other teacher block, ending at the top one (DistilBERT's recipe),
plus the teacher's embeddings, pooler and head. It trains on the training texts with
KL divergence to the teacher's temperature-softened outputs, plus cross-entropy on the
labels when the training data has them, for a wall-clock budget. Seeded.

A plain loop rather than the HF Trainer: the loss needs the teacher's outputs per
batch and the budget must stop training on time; both would need a Trainer subclass.
"""

from __future__ import annotations

import copy
import logging
import random
import time
from pathlib import Path

import torch
from torch import nn

from tamellm.compression.base import CompressContext, CompressionError, Compressor, register_compressor
from tamellm.compression.folders import load_source, save_model
from tamellm.models.compressed_loader import encoder_layers

log = logging.getLogger(__name__)


def teacher_layers(total: int, keep: int) -> list[int]:
    """Which teacher blocks initialise the student: every other one, ending at the top (6 -> 3: 1, 3, 5)."""
    step = total / keep
    return sorted({total - 1 - int(i * step) for i in range(keep)})


def make_student(teacher: nn.Module, keep: int) -> nn.Module:
    """A copy of ``teacher`` keeping only ``keep`` of its encoder blocks."""
    student = copy.deepcopy(teacher)
    layers = encoder_layers(student)
    chosen = teacher_layers(len(layers), keep)
    base = student.base_model
    base.encoder.layer = nn.ModuleList([layers[i] for i in chosen])
    for index, layer in enumerate(base.encoder.layer):  # keep per-layer indices consistent (caches)
        if hasattr(layer.attention.self, "layer_idx"):
            layer.attention.self.layer_idx = index
    student.config.num_hidden_layers = keep
    return student


@register_compressor("distill")
class Distillation(Compressor):
    """Distil into ``layers`` (default half of the teacher's) blocks for ``budget_s`` seconds."""

    description = "knowledge distillation into a student with fewer layers"

    def run(self, source: Path, out: Path, ctx: CompressContext) -> dict:
        loaded, transforms = load_source(source, self.name)
        teacher, tokenizer = loaded.model.eval(), loaded.tokenizer
        total = len(encoder_layers(teacher))
        if transforms or not total or loaded.resolved.task != "classify":
            raise CompressionError(f"Method '{self.name}' cannot distil {source} ({type(teacher).__name__})",
                                   "distillation needs a float32 BERT-style encoder classifier as the teacher")
        if not ctx.train_texts:
            raise CompressionError(f"Method '{self.name}' needs training texts to distil {source}",
                                   "pass train_data= (CLI: --train-data FILE) with the texts the model was trained on")
        keep = int(self.params.get("layers", max(1, total // 2)))
        if not 1 <= keep < total:
            raise CompressionError(f"distill: layers={keep} must be between 1 and {total - 1}")
        torch.manual_seed(ctx.seed)
        student = make_student(teacher, keep)
        stats = train_student(teacher, student, tokenizer, ctx, self.params)
        loaded.model = student.eval()
        details = {"method": self.name, "teacher_layers": total, "student_layers": keep,
                   "initialised_from": teacher_layers(total, keep), **stats}
        save_model(loaded, out, [], details)
        return details


def train_student(teacher: nn.Module, student: nn.Module, tokenizer, ctx: CompressContext, params: dict) -> dict:
    """Train ``student`` on ``ctx.train_texts`` towards ``teacher``'s soft labels (and the labels) for a budget."""
    temperature = float(params.get("temperature", 2.0))
    alpha = float(params.get("alpha", 0.5)) if ctx.train_labels else 1.0
    batch_size = int(params.get("batch_size", 32))
    budget = float(params.get("budget_s", ctx.budget_s))
    max_steps = int(params.get("max_steps", 10**9))
    student.train()
    optimizer = torch.optim.AdamW(student.parameters(), lr=float(params.get("lr", 5e-5)))
    order = list(range(len(ctx.train_texts)))
    rng = random.Random(ctx.seed)
    start, step, seen, loss_value = time.perf_counter(), 0, 0, float("nan")
    while step < max_steps and time.perf_counter() - start < budget:
        rng.shuffle(order)
        for begin in range(0, len(order), batch_size):
            indices = order[begin:begin + batch_size]
            batch = tokenizer([ctx.train_texts[i] for i in indices], truncation=True,
                              max_length=ctx.max_length, padding=True, return_tensors="pt")
            with torch.no_grad():
                soft = (teacher(**batch).logits / temperature).log_softmax(-1)
            logits = student(**batch).logits
            loss = alpha * temperature ** 2 * nn.functional.kl_div(
                (logits / temperature).log_softmax(-1), soft, log_target=True, reduction="batchmean")
            if alpha < 1.0:
                labels = torch.tensor([ctx.train_labels[i] for i in indices])
                loss = loss + (1 - alpha) * nn.functional.cross_entropy(logits, labels)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            step, seen, loss_value = step + 1, seen + len(indices), float(loss)
            if step % 50 == 0:
                log.info("distill step %d, %d texts, loss %.4f", step, seen, loss_value)
            if step >= max_steps or time.perf_counter() - start >= budget:
                break
    student.eval()
    return {"steps": step, "texts_seen": seen, "train_seconds": round(time.perf_counter() - start, 1),
            "final_loss": round(loss_value, 5), "temperature": temperature, "alpha": alpha}
