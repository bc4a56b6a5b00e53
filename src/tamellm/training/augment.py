"""Data augmentation for text classification: more training rows made from the training rows.

``augment="eda"``: Easy Data Augmentation (Wei & Zou, 2019): each new row is its source
with one of synonym replacement, random insertion of a synonym, random swap or random
deletion, touching about 1 word in 10. ``augment="perturb"``: each new row is its source
under one of the robustness tests' invariance perturbations (typos, case, punctuation,
contractions, swapped names and numbers, synonyms, distractors), so the model sees the
noise it is tested on. ``augment_ratio`` new rows per training row (seeded); a class with
fewer than half the rows of the largest one also gets augmented rows up to the largest
(at most ``MAX_BALANCE_FACTOR`` times its own size), which balances it without exact
duplicates. Off by default: on a pretrained encoder augmentation rarely lifts clean
accuracy (Longpre et al., 2020); bench/robustness_sst2.py measures what it does here.
"""

from __future__ import annotations

import copy
import logging
import random
from collections.abc import Callable
from typing import Any

import pandas as pd

from tamellm.errors import ConfigError
from tamellm.registry import Registry
from tamellm.robust.lexicon import STOPWORDS, load_wordnet
from tamellm.robust.perturbations import PERTURBATIONS, PerturbContext

logger = logging.getLogger(__name__)
EDA_ALPHA = 0.1  # share of a sentence's words one EDA operation touches
RARE_SHARE = 0.5  # a class below this share of the largest class is topped up
MAX_BALANCE_FACTOR = 3  # ... with at most this many augmented rows per original row

Augmenter = Callable[[str, random.Random, PerturbContext], str]
AUGMENTERS: Registry[Augmenter] = Registry("augmenters", "augmentation")


def _context() -> PerturbContext:
    wordnet = load_wordnet()
    if wordnet is None:
        return PerturbContext()
    return PerturbContext(synonyms=wordnet.synonyms, parts_of_speech=wordnet.parts_of_speech)


@AUGMENTERS.register("eda")
def eda(text: str, rng: random.Random, context: PerturbContext) -> str:
    """One EDA operation: synonym replacement, random insertion, random swap or random deletion."""
    words = text.split()
    if len(words) < 2:
        return text
    n = max(1, round(EDA_ALPHA * len(words)))
    content = [i for i, w in enumerate(words) if w.isalpha() and w.lower() not in STOPWORDS
               and context.synonyms(w.lower())]
    operation = rng.choice(["replace", "insert", "swap", "delete"] if content else ["swap", "delete"])
    if operation == "replace":
        for i in rng.sample(content, min(n, len(content))):
            words[i] = rng.choice(context.synonyms(words[i].lower())[:4])
    elif operation == "insert":
        for _ in range(n):
            source = words[rng.choice(content)].lower()
            words.insert(rng.randrange(len(words) + 1), rng.choice(context.synonyms(source)[:4]))
    elif operation == "swap":
        for _ in range(n):
            a, b = rng.sample(range(len(words)), 2)
            words[a], words[b] = words[b], words[a]
    else:
        kept = [w for w in words if rng.random() >= EDA_ALPHA]
        words = kept or [rng.choice(words)]
    return " ".join(words)


@AUGMENTERS.register("perturb")
def perturb(text: str, rng: random.Random, context: PerturbContext) -> str:
    """One invariance perturbation of the robustness tests that applies to the text (the text when none does)."""
    tests = [t for t in PERTURBATIONS.values() if t.expect == "same"]
    rng.shuffle(tests)
    for test in tests:
        out = test.apply(text, rng.randrange(2**31), 0, context)
        if out is not None:
            return out
    return text


def _new_rows(frame: pd.DataFrame, rows: list[int], text_column: str, augmenter: Augmenter,
              rng: random.Random, context: PerturbContext) -> pd.DataFrame:
    part = frame.iloc[rows].copy()
    part[text_column] = [augmenter(str(t), rng, context) for t in part[text_column]]
    return part


def augment_splits(data: Any, params: Any, task: str) -> Any:
    """``data`` with augmented training rows appended (a copy; the given splits are left as they are)."""
    name, ratio = getattr(params, "augment", "none"), float(getattr(params, "augment_ratio", 0.0))
    if name == "none":
        return data
    if task != "classify":
        raise ConfigError(f"augmentation works on text classification data, not on a '{task}' task",
                          "drop augment (or --augment) for this task")
    augmenter = AUGMENTERS[name]
    frame, columns = data.train, data.columns
    rng, context = random.Random(f"augment:{params.seed}"), _context()
    picked = [rng.randrange(len(frame)) for _ in range(round(ratio * len(frame)))]
    extra = 0
    if not columns.multi_label:
        labels = frame[columns.label].astype(str).tolist()
        counts = pd.Series(labels).value_counts()
        for label, count in counts.items():
            if count < RARE_SHARE * counts.max():
                rows = [i for i, x in enumerate(labels) if x == label]
                need = min(int(counts.max() - count), MAX_BALANCE_FACTOR * count)
                picked += [rng.choice(rows) for _ in range(need)]
                extra += need
    new = _new_rows(frame, picked, columns.text, augmenter, rng, context)
    out = copy.copy(data)
    out.train = pd.concat([frame, new], ignore_index=True)
    out.notes = [*data.notes, f"augmentation '{name}': {len(new)} rows added to train ({extra} of them for rare "
                              f"classes), {len(out.train)} rows in all"]
    logger.info("%s", out.notes[-1])
    return out
