"""Adapting the encoder to one FAQ (``tamellm faq build --tune``), contrastively, on the FAQ's own pairs.

Positives are what the FAQ says belongs together: the questions that share an answer (variants),
and each question with its answer (all a FAQ with one question per answer has). Two losses:

- ``in-batch`` (default): each question must pick its positive among the batch's positives, the
  others being negatives (the multiple-negatives ranking loss of sentence-transformers). With
  hundreds of answers and one pair each, a batch of 32 gives every pair 31 negatives per step.
- ``pairs``: the few-shot strategy's contrastive phase (SetFit's cosine-similarity loss on pairs
  drawn by ``make_pairs``: same answer -> 1, another answer -> 0), one positive and one negative
  per text.

Both tune the mean-pooled, normalised embedding that ``tamellm.embed`` reads (the few-shot
strategy's ``sentence_embedding``); the result is a mean-pooling model folder that every command
loads wherever it takes an encoder.
"""

from __future__ import annotations

import logging
import os
import random
import time
from collections.abc import Callable
from pathlib import Path

import torch

from tamellm.apps.faq.entries import FaqEntry
from tamellm.errors import InputError

logger = logging.getLogger(__name__)
MAX_LENGTH = 64  # FAQ answers run to a paragraph; their first 64 tokens say what they are about
BATCH = 32
LEARNING_RATE = 2e-5
SCALE = 20.0  # sentence-transformers' scale for cosine similarities in the in-batch loss
MAX_VARIANT_PAIRS = 6  # per answer: a FAQ with dozens of variants of one answer must not drown the others


def _key(text: str) -> str:
    return " ".join(text.split()).casefold()


def base_folder(encoder: str | os.PathLike) -> Path:
    """The local folder of ``encoder`` when it is a mean-pooling BERT sentence encoder (what tuning adapts)."""
    from tamellm.models.mean_pooling import sentence_pooling
    from tamellm.models.resolve import resolve

    path = resolve(encoder).path
    if sentence_pooling(Path(path)) is None:
        raise InputError(f"--tune adapts a mean-pooling sentence encoder (a sentence-transformers BERT folder); "
                         f"'{encoder}' is not one", "build with the default encoder (minilm-l6) to use --tune")
    return Path(path)


def training_pairs(entries: list[FaqEntry], seed: int = 0) -> list[tuple[str, str, int]]:
    """``(anchor, positive, answer group)``: every question with its answer, and variants of one answer."""
    rng = random.Random(seed)
    groups: dict[str, list[FaqEntry]] = {}
    for entry in entries:
        groups.setdefault(_key(entry.answer), []).append(entry)
    pairs = []
    for group, members in enumerate(groups.values()):
        questions = list(dict.fromkeys(e.question for e in members))
        pairs.append((questions[0], members[0].answer, group))
        pairs.extend((q, members[0].answer, group) for q in questions[1:])
        variants = [(a, b) for i, a in enumerate(questions) for b in questions[i + 1:]]
        rng.shuffle(variants)
        pairs.extend((a, b, group) for a, b in variants[:MAX_VARIANT_PAIRS])
    return pairs


def _batches(pairs: list[tuple[str, str, int]], size: int, rng: random.Random) -> list[list[tuple[str, str, int]]]:
    """Shuffled batches in which no answer appears twice (a second pair of it would be a false negative)."""
    order = pairs[:]
    rng.shuffle(order)
    batches: list[list[tuple[str, str, int]]] = []
    open_batches: list[tuple[list, set]] = []
    for pair in order:
        slot = next((b for b in open_batches if pair[2] not in b[1]), None)
        if slot is None:
            slot = ([], set())
            open_batches.append(slot)
        slot[0].append(pair)
        slot[1].add(pair[2])
        if len(slot[0]) == size:
            batches.append(slot[0])
            open_batches.remove(slot)
    batches.extend(b for b, _ in open_batches if len(b) > 1)
    rng.shuffle(batches)
    return batches


def _in_batch_loss(model, tokenize, batch: list[tuple[str, str, int]]) -> torch.Tensor:
    from tamellm.training.strategies.linear_head import sentence_embedding

    anchors = sentence_embedding(model, tokenize([a for a, _, _ in batch]))
    positives = sentence_embedding(model, tokenize([p for _, p, _ in batch]))
    logits = SCALE * anchors @ positives.T
    target = torch.arange(len(batch))
    # both directions: a question picks its answer, an answer picks its question
    return (torch.nn.functional.cross_entropy(logits, target) + torch.nn.functional.cross_entropy(logits.T, target)) / 2


def _pair_batches(pairs: list[tuple[str, str, int]], seed: int) -> list[list[tuple[str, str, float]]]:
    """The few-shot strategy's pairs over the FAQ's texts, grouped by answer, in batches of its size."""
    from tamellm.training.strategies.few_shot import PAIR_BATCH, make_pairs

    texts, labels = [], []
    for anchor, positive, group in pairs:
        texts += [anchor, positive]
        labels += [group, group]
    drawn = make_pairs(labels, seed, per_example=2)
    rows = [(texts[i], texts[j], target) for i, j, target in drawn]
    return [rows[i:i + PAIR_BATCH] for i in range(0, len(rows), PAIR_BATCH)]


def _pairs_loss(model, tokenize, batch: list[tuple[str, str, float]]) -> torch.Tensor:
    from tamellm.training.strategies.linear_head import sentence_embedding

    left = sentence_embedding(model, tokenize([a for a, _, _ in batch]))
    right = sentence_embedding(model, tokenize([b for _, b, _ in batch]))
    target = torch.tensor([t for _, _, t in batch], dtype=left.dtype)
    return torch.nn.functional.mse_loss(torch.nn.functional.cosine_similarity(left, right), target)


# loss name -> (batches from the training pairs, loss of one batch)
LOSSES: dict[str, tuple[Callable, Callable]] = {
    "in-batch": (lambda pairs, seed: _batches(pairs, BATCH, random.Random(seed)), _in_batch_loss),
    "pairs": (_pair_batches, _pairs_loss),
}


def tune_encoder(entries: list[FaqEntry], output: str | os.PathLike, encoder: str | os.PathLike = "minilm-l6",
                 loss: str = "in-batch", epochs: int = 1, seed: int = 0) -> dict:
    """Tune ``encoder`` on ``entries`` and save it to ``output`` (a model folder); returns what was done."""
    from transformers import AutoTokenizer

    from tamellm.models.mean_pooling import build_mean_pooling_classifier

    if loss not in LOSSES:
        raise InputError(f"Unknown tuning loss '{loss}'", f"use one of {', '.join(LOSSES)}")
    if len(entries) < 2:
        raise InputError("--tune needs at least 2 FAQ entries", "add entries, or build without --tune")
    start = time.perf_counter()
    torch.manual_seed(seed)
    base = base_folder(encoder)
    tokenizer = AutoTokenizer.from_pretrained(base)
    # a one-output head rides along unused: the folder is a standard mean-pooling model that embeds
    model = build_mean_pooling_classifier(base, normalize=True, num_labels=1, id2label={0: "unused"})

    from tamellm.apps.faq.rerank import max_length

    length = max_length(model, tokenizer, MAX_LENGTH)

    def tokenize(texts: list[str]) -> dict:
        return dict(tokenizer(texts, truncation=True, max_length=length, padding=True, return_tensors="pt"))

    pairs = training_pairs(entries, seed)
    make_batches, batch_loss = LOSSES[loss]
    optimizer = torch.optim.AdamW(model.bert.parameters(), lr=LEARNING_RATE)
    model.train()
    steps, losses = 0, []
    for epoch in range(epochs):
        for batch in make_batches(pairs, seed + epoch):
            value = batch_loss(model, tokenize, batch)
            value.backward()
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            steps += 1
            losses.append(value.item())
    model.eval()
    output = Path(output)
    model.save_pretrained(output)
    tokenizer.save_pretrained(output)
    tail = losses[-10:] or [0.0]
    logger.info("faq --tune: %d steps on %d pairs in %.0f s", steps, len(pairs), time.perf_counter() - start)
    return {"base": str(encoder), "loss": loss, "pairs": len(pairs), "epochs": epochs, "steps": steps,
            "final_loss": round(sum(tail) / len(tail), 4), "seconds": round(time.perf_counter() - start, 1)}
