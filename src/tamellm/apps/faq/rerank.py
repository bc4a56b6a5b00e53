"""A cross-encoder reranker trained on one FAQ (``tamellm faq build --rerank``), from the encoder's body.

No packaged cross-encoder exists, so one is trained at build time from the index encoder's weights: a
mean-pooling BERT that reads ``(question, entry question + answer)`` together and gives one
relevance score. Training examples come from the FAQ alone: each entry's question, and a
rewording of it (the handoff calibration's: short words dropped), is shown its own entry and the
entries the hybrid retriever ranks just above or below it (hard negatives: another answer, another
question), with a softmax over the group (listwise). At ask time it reorders the retriever's best
``DEPTH`` entries. It is checked at build time on fresh rewordings of the FAQ's questions and is
used by default only when it ranked them better than the retriever did.
"""

from __future__ import annotations

import logging
import os
import random
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from tamellm.apps.faq.index import FaqIndex
from tamellm.errors import InputError

logger = logging.getLogger(__name__)
MAX_LENGTH = 96  # question + candidate question + the start of its answer
DEPTH = 10  # candidates reordered per question
NEGATIVES = 3
BATCH_GROUPS = 8  # 8 groups of 1 + NEGATIVES pairs per step
MIN_STEPS = 20  # a small FAQ is seen several times over
VALIDATION_QUERIES = 120
LEARNING_RATE = 3e-5
MAX_TRAIN_ENTRIES = 240  # enough for a FAQ's vocabulary; keeps a build of a large FAQ within minutes on 2 cores


def _key(text: str) -> str:
    return " ".join(text.split()).casefold()


def max_length(model: Any, tokenizer: Any, wanted: int = MAX_LENGTH) -> int:
    """``wanted`` tokens, or fewer when the model has fewer positions."""
    positions = getattr(model.config, "max_position_embeddings", wanted) or wanted
    return min(wanted, int(positions), int(getattr(tokenizer, "model_max_length", wanted) or wanted))


def document(question: str, answer: str) -> str:
    """What the cross-encoder reads of an entry."""
    return f"{question} || {answer}"


def training_groups(index: FaqIndex, seed: int = 0, limit: int = MAX_TRAIN_ENTRIES) -> list[tuple[str, list[int]]]:
    """``(query, [own position, negative positions...])`` per sampled entry, queries from the FAQ alone."""
    from tamellm.apps.faq.calibration import _drop_words

    rng = random.Random(seed)
    sample = rng.sample(range(len(index)), min(len(index), limit))
    groups = []
    for i in sample:
        entry = index.entries[i]
        query = entry.question if rng.random() < 0.5 else _drop_words(entry.question, rng)
        hits = index.search(query, k=DEPTH + 5, mode="hybrid")
        negatives = [h.position for h in hits
                     if _key(index.entries[h.position].answer) != _key(entry.answer)
                     and _key(index.entries[h.position].question) != _key(entry.question)][:NEGATIVES]
        while len(negatives) < NEGATIVES:  # a tiny FAQ: random others
            j = rng.randrange(len(index))
            if _key(index.entries[j].answer) != _key(entry.answer):
                negatives.append(j)
        groups.append((query, [i, *negatives]))
    return groups


def train_reranker(index: FaqIndex, output: str | os.PathLike, base: str | os.PathLike = "minilm-l6",
                   epochs: int = 1, seed: int = 0) -> dict:
    """Train a cross-encoder for ``index`` from ``base``'s body and save it to ``output``; returns what was done."""
    from transformers import AutoTokenizer

    from tamellm.apps.faq.tune import base_folder
    from tamellm.models.mean_pooling import build_mean_pooling_classifier

    if len(index) < NEGATIVES + 2:
        raise InputError(f"--rerank needs at least {NEGATIVES + 2} FAQ entries", "build without --rerank")
    start = time.perf_counter()
    torch.manual_seed(seed)
    folder = base_folder(base)
    tokenizer = AutoTokenizer.from_pretrained(folder)
    model = build_mean_pooling_classifier(folder, normalize=False, num_labels=1, id2label={0: "relevant"},
                                          label2id={"relevant": 0})
    length = max_length(model, tokenizer)
    groups = training_groups(index, seed)
    optimizer = torch.optim.AdamW(model.parameters(), lr=LEARNING_RATE)
    model.train()
    steps, losses = 0, []
    rng = random.Random(seed)
    epochs = max(epochs, -(-MIN_STEPS // -(-len(groups) // BATCH_GROUPS)))
    for _ in range(epochs):
        rng.shuffle(groups)
        for s in range(0, len(groups), BATCH_GROUPS):
            chunk = groups[s:s + BATCH_GROUPS]
            queries = [q for q, positions in chunk for _ in positions]
            docs = [document(index.entries[p].question, index.entries[p].answer) for _, ps in chunk for p in ps]
            batch = tokenizer(queries, docs, truncation="only_second", max_length=length, padding=True,
                              return_tensors="pt")
            logits = model(**batch).logits.view(len(chunk), -1)
            loss = torch.nn.functional.cross_entropy(logits, torch.zeros(len(chunk), dtype=torch.long))
            loss.backward()
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            steps += 1
            losses.append(loss.item())
    model.eval()
    output = Path(output)
    model.save_pretrained(output)
    tokenizer.save_pretrained(output)
    tail = losses[-10:] or [0.0]
    check = validate(Reranker(model, tokenizer), index, seed + 1)
    return {"base": str(base), "groups": len(groups), "negatives": NEGATIVES, "epochs": epochs, "steps": steps,
            "final_loss": round(sum(tail) / len(tail), 4), "depth": DEPTH, "validation": check,
            "enabled": check["reranked_mrr"] > check["retrieved_mrr"],
            "seconds": round(time.perf_counter() - start, 1)}


def validate(reranker: Reranker, index: FaqIndex, seed: int) -> dict:
    """MRR of the retriever's order and of the reranked order on fresh rewordings of the FAQ's questions.

    The assistant reranks by default only when reranking did better here: a cross-encoder trained on
    a handful of entries can be worse than the retriever it reorders.
    """
    from tamellm.apps.faq.calibration import _drop_words

    rng = random.Random(seed)
    retrieved, reranked = [], []
    for i in rng.sample(range(len(index)), min(len(index), VALIDATION_QUERIES)):
        entry = index.entries[i]
        right = {j for j, e in enumerate(index.entries) if _key(e.question) == _key(entry.question)}
        query = _drop_words(entry.question, rng)
        hits = index.search(query, k=DEPTH, mode="hybrid")
        order = [hits[k].position for k in np.argsort(-reranker.scores(query, [index.entries[h.position]
                                                                                 for h in hits]), kind="stable")]
        for ranking, out in (([h.position for h in hits], retrieved), (order, reranked)):
            out.append(next((1 / r for r, p in enumerate(ranking, 1) if p in right), 0.0))
    return {"queries": len(retrieved), "retrieved_mrr": round(float(np.mean(retrieved)), 4),
            "reranked_mrr": round(float(np.mean(reranked)), 4)}


class Reranker:
    """A trained cross-encoder folder: relevance scores of entries for a question."""

    def __init__(self, model: Any, tokenizer: Any) -> None:
        self.model = model
        self.tokenizer = tokenizer

    @classmethod
    def load(cls, folder: str | os.PathLike) -> Reranker:
        """Load a folder written by ``train_reranker``."""
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        from tamellm.models.mean_pooling import ensure_registered

        ensure_registered()
        model = AutoModelForSequenceClassification.from_pretrained(folder, use_safetensors=True).eval()
        return cls(model, AutoTokenizer.from_pretrained(folder))

    @torch.inference_mode()
    def scores(self, question: str, entries: list) -> np.ndarray:
        """One relevance score per entry (higher is better)."""
        if not entries:
            return np.zeros(0, dtype=np.float32)
        batch = self.tokenizer([question] * len(entries), [document(e.question, e.answer) for e in entries],
                               truncation="only_second", max_length=max_length(self.model, self.tokenizer),
                               padding=True, return_tensors="pt")
        return self.model(**batch).logits.view(-1).float().numpy()
