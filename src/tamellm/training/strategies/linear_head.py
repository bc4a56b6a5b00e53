"""The sentence embedding a classification head reads, a logistic-regression start for that head, and
a forward pass that reads that embedding from a cache once the encoder is frozen.

Shared by the strategies that freeze the encoder (head-only, few-shot).
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Hashable
from functools import partial
from typing import Any

import torch

from tamellm.threads import one_blas_thread
from tamellm.training.collate import collate
from tamellm.training.resources import EmbeddingCache

logger = logging.getLogger(__name__)
FIT_ROWS = 10_000  # enough rows for a near-converged fit over a few hundred dimensions
BLOCK = 512  # rows embedded between two looks at the deadline
HEAD_CS = (0.25, 1.0, 4.0, 16.0, 64.0)  # inverse L2 strengths tried for the logistic-regression head
CV_FOLDS = 5


def sentence_embedding(model: torch.nn.Module, batch: dict) -> torch.Tensor:
    """The sentence embedding the classification head reads (mean-pooled for sentence-transformers bases)."""
    inputs = {k: v for k, v in batch.items() if k != "labels"}
    if hasattr(model, "sentence_embedding"):
        return model.sentence_embedding(**inputs)
    out = model.base_model(**inputs)
    pooled = getattr(out, "pooler_output", None)
    if pooled is not None:
        return pooled
    mask = batch["attention_mask"].unsqueeze(-1).float()
    return (out.last_hidden_state * mask).sum(1) / mask.sum(1).clamp(min=1)


def _sample(features: list[dict], limit: int, seed: int, per_class: int = 20) -> list[dict]:
    """At most ~``limit`` rows (seeded), plus up to ``per_class`` rows of any class the sample missed."""
    if len(features) <= limit:
        return features
    chosen = random.Random(seed).sample(range(len(features)), limit)
    seen = {int(features[i]["labels"]) for i in chosen}
    missed: dict[int, list[int]] = {}
    for i, row in enumerate(features):
        label = int(row["labels"])
        if label not in seen and len(missed.setdefault(label, [])) < per_class:
            missed[label].append(i)
    return [features[i] for i in chosen + [i for rows in missed.values() for i in rows]]


def frozen_embedder(model: torch.nn.Module) -> Callable[[dict], torch.Tensor]:
    """``batch -> sentence embeddings`` with the encoder in eval mode (no dropout) and no gradients."""

    @torch.no_grad()
    def embed(batch: dict) -> torch.Tensor:
        encoder = model.base_model
        was_training = encoder.training
        encoder.eval()
        try:
            return sentence_embedding(model, batch)
        finally:
            encoder.train(was_training)

    return embed


def _reads_cacheable_embedding(model: torch.nn.Module) -> bool:
    """A classifier whose logits are head(dropout(sentence embedding)) over a wholly frozen encoder."""
    return (hasattr(model, "sentence_embedding") and isinstance(getattr(model, "classifier", None), torch.nn.Linear)
            and hasattr(model, "dropout") and hasattr(model, "_loss")
            and not any(p.requires_grad for p in model.base_model.parameters()))


def use_cached_embeddings(model: torch.nn.Module, cache: EmbeddingCache, key: Hashable) -> bool:
    """Let ``model``'s forward read its frozen sentence embeddings from ``cache`` (under ``key``).

    With the encoder frozen its output per text never changes, so every epoch (and every
    trial sharing the cache) embeds a text once and trains the head on the stored vector.
    The encoder then runs without dropout, as a feature extractor. Returns False (and
    changes nothing) for models whose head does not read such an embedding.
    """
    if not _reads_cacheable_embedding(model):
        return False
    from transformers.modeling_outputs import SequenceClassifierOutput

    embed = frozen_embedder(model)

    def forward(input_ids: torch.Tensor | None = None, attention_mask: torch.Tensor | None = None,
                token_type_ids: torch.Tensor | None = None, labels: torch.Tensor | None = None,
                **_: Any) -> SequenceClassifierOutput:
        if attention_mask is None:
            attention_mask = torch.ones_like(input_ids)
        batch = {"input_ids": input_ids, "attention_mask": attention_mask}
        if token_type_ids is not None:
            batch["token_type_ids"] = token_type_ids
        logits = model.classifier(model.dropout(cache.embed(key, embed, batch)))
        return SequenceClassifierOutput(loss=None if labels is None else model._loss(logits, labels), logits=logits)

    model.forward = forward  # an instance attribute: nn.Module.__call__ finds it before the class's forward
    return True


def drop_cached_embeddings(model: torch.nn.Module) -> torch.nn.Module:
    """Restore the model's own forward (before saving or serving it)."""
    model.__dict__.pop("forward", None)
    return model


def _has_classes(targets: list[int], done: list[int]) -> bool:
    """Every class of ``targets`` has at least two rows among ``done`` (enough to fit and cross-validate)."""
    seen: dict[int, int] = {}
    for i in done:
        seen[targets[i]] = seen.get(targets[i], 0) + 1
    return len(seen) == len(set(targets)) and min(seen.values()) >= 2


def cv_accuracies(embeddings: Any, targets: list[int], seed: int) -> list[float] | None:
    """The cross-validated accuracy of the logistic regression at each C of ``HEAD_CS`` on the training rows,
    or None with fewer than 2 rows in some class (nothing to cross-validate)."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_score

    counts = np.unique(np.asarray(targets), return_counts=True)[1]
    folds = min(CV_FOLDS, int(counts.min()))
    if len(counts) < 2 or folds < 2:
        return None
    split = StratifiedKFold(folds, shuffle=True, random_state=seed)
    with one_blas_thread():
        return [float(cross_val_score(LogisticRegression(C=c, max_iter=1000), embeddings, targets, cv=split).mean())
                for c in HEAD_CS]


def best_c(scores: list[float] | None) -> float:
    """The C of ``HEAD_CS`` with the best cross-validated accuracy (``cv_accuracies``); C = 1 without scores."""
    if scores is None:
        return 1.0
    best = max(range(len(HEAD_CS)), key=scores.__getitem__)
    logger.info("head start: logistic regression C=%s (cross-validated accuracy %.4f; tried %s)", HEAD_CS[best],
                scores[best], ", ".join(f"{c}: {v:.4f}" for c, v in zip(HEAD_CS, scores, strict=True)))
    return HEAD_CS[best]


def choose_c(embeddings: Any, targets: list[int], seed: int) -> float:
    """The regularisation ``C`` of ``HEAD_CS`` with the best cross-validated accuracy on the training rows.

    Encoders differ a lot here: MiniLM's normalised embeddings do best near C = 1, E5's (all
    close together on the sphere) near C = 4-16; one fixed C costs E5 ~4 points on financial
    tweets. With fewer than 2 rows in some class there is nothing to cross-validate: C = 1.
    """
    return best_c(cv_accuracies(embeddings, targets, seed))


def logistic_head(embeddings: Any, targets: list[int], seed: int) -> tuple[Any, Any, Any, dict]:
    """(coef, intercept, classes, start) of scikit-learn's logistic regression at the cross-validated C;
    ``start`` records that C, its cross-validated accuracy (None when there was nothing to cross-validate)
    and the rows fitted."""
    from sklearn.linear_model import LogisticRegression

    scores = cv_accuracies(embeddings, targets, seed)
    c = best_c(scores)
    with one_blas_thread():
        fit = LogisticRegression(C=c, max_iter=1000).fit(embeddings, targets)
    start = {"C": c, "cv_accuracy": None if scores is None else max(scores), "rows": len(targets)}
    return fit.coef_, fit.intercept_, fit.classes_, start


@torch.no_grad()
def fit_linear_head(model: torch.nn.Module, features: list[dict], pad_id: int, limit: int = FIT_ROWS,
                    seed: int = 0, embed: Callable[[dict], torch.Tensor] | None = None,
                    memo: Callable[[Hashable, Callable[[], Any]], Any] | None = None,
                    memo_key: Hashable = None, deadline: float | None = None) -> dict | None:
    """Set a single-label classifier's head to scikit-learn's logistic regression on the frozen embeddings.

    SetFit's head, and the converged, L2-regularised optimum of what head-only trains (its C
    cross-validated, ``choose_c``); the training loop then refines it. Skipped when the head is
    not one linear layer over the embedding (e.g. RoBERTa's two-layer head). ``features`` are the
    training rows (with labels); at most ``limit`` of them (a seeded sample) are embedded for the
    fit, by ``embed`` when given (e.g. through an ``EmbeddingCache``). With ``memo`` (a
    TrainResources.memo) and ``memo_key`` naming the frozen encoder, the fit is made once per study.
    Past ``deadline`` (a ``time.monotonic()`` value) no further block of rows is embedded: the fit
    uses the rows embedded so far (a seeded random sample holding every class).
    Returns the fit's record (``logistic_head``'s ``start``), or None when the head was left alone.
    """
    head = getattr(model, "classifier", None)
    if not isinstance(head, torch.nn.Linear) or head.in_features != model.config.hidden_size:
        return None
    features = _sample(features, limit, seed)
    targets = [int(f["labels"]) for f in features]

    def fit() -> tuple[Any, Any, Any, dict]:
        was_training = model.training
        model.eval()
        rows = [{k: v for k, v in f.items() if k != "labels"} for f in features]
        embedder = embed or (lambda batch: sentence_embedding(model, batch))
        done: list[int] = []
        parts: list[torch.Tensor] = []
        # Blocks of a seeded shuffle, so that a deadline leaves a random sample; inside a block,
        # length-sorted batches (short tweets are not padded to the longest text of a random batch).
        shuffled = random.Random(seed).sample(range(len(rows)), len(rows))
        for start in range(0, len(shuffled), BLOCK):
            if deadline is not None and done and time.monotonic() > deadline and _has_classes(targets, done):
                logger.warning("head start: the time budget allowed embedding %d of %d training rows; the "
                               "logistic regression is fitted on those", len(done), len(rows))
                break
            block = sorted(shuffled[start:start + BLOCK], key=lambda i: len(rows[i]["input_ids"]))
            for at in range(0, len(block), 64):
                parts.append(embedder(collate([rows[i] for i in block[at:at + 64]], pad_id, False)).float())
            done.extend(block)
        model.train(was_training)
        # Back in row order: the cross-validation folds, hence C, must not depend on the embedding order.
        order = sorted(range(len(done)), key=done.__getitem__)
        return logistic_head(torch.cat(parts)[order].numpy(), [targets[done[i]] for i in order], seed)

    if memo is not None and memo_key is not None:
        from tamellm.training.resources import fingerprint

        coef, intercept, classes, start = memo(("linear-head", memo_key, seed, limit,
                                                fingerprint([f["input_ids"] for f in features], targets)), fit)
    else:
        coef, intercept, classes, start = fit()
    weight, bias = torch.tensor(coef, dtype=head.weight.dtype), torch.tensor(intercept, dtype=head.bias.dtype)
    if len(classes) == 2:  # one logit w·x + b: the same softmax as logits (-(w·x + b) / 2, (w·x + b) / 2)
        weight, bias = torch.cat([-weight, weight]) / 2, torch.cat([-bias, bias]) / 2
    head.weight.zero_()
    head.bias.fill_(float(bias.min()))  # an output no training row has: as unlikely as the rarest class
    classes = torch.tensor(classes)
    head.weight[classes] = weight
    head.bias[classes] = bias
    return start


def frozen_key(model: torch.nn.Module, base_key: str | None) -> tuple:
    """The key of an untouched encoder's sentence embeddings in a study's ``EmbeddingCache``."""
    return "frozen", base_key or f"model-{id(model)}", type(model).__name__


def start_head(model: torch.nn.Module, adapter: Any, resources: Any, base_key: str | None, seed: int,
               deadline: float | None) -> dict | None:
    """Start a single-label text classifier's head at the logistic regression on its untouched encoder's
    training embeddings (``fit_linear_head``); other tasks are left alone. Called before any weight
    changes. With ``resources`` (the study's TrainResources), the embeddings and the fit are shared by every
    trial on the same ``base_key``. Returns the fit's record (``fit_linear_head``), or None."""
    if adapter.task != "classify" or getattr(adapter, "multi_label", False):
        return None
    features = adapter.split_features(adapter.tokenizer, "train", adapter.max_length)
    plain = frozen_embedder(model)
    key = frozen_key(model, base_key)
    return fit_linear_head(model, features, adapter.tokenizer.pad_token_id or 0, seed=seed,
                           embed=plain if resources is None else partial(resources.embeddings.embed, key, plain),
                           memo=None if resources is None else resources.memo, memo_key=key, deadline=deadline)
