"""Run the robustness tests and the attack on a classifier over a labelled file.

For every registered perturbation (or the chosen ones): perturb each text it applies
to (seeded per test and row), predict, and count failures by the test's expectation
(see perturbations.py); the worst failures are explained (the perturbed text's word
attributions). Then the greedy attack (attack.py) on the correctly classified texts.
"""

from __future__ import annotations

import logging
import os
import random
import time
from dataclasses import dataclass, field
from typing import Any

import torch

from tamellm.errors import DataError, InputError, TamellmError
from tamellm.registry import Registry
from tamellm.robust.attack import greedy_attack
from tamellm.robust.lexicon import embedding_neighbours, load_wordnet
from tamellm.robust.perturbations import PERTURBATIONS, Perturbation, PerturbContext

logger = logging.getLogger(__name__)
ENTITY_TESTS = ("swap-names", "swap-places")
NER_MODEL = "spacy-en-sm"
# Task name -> the runner for models of that task other than classifiers (ner.py registers "ner"); each takes
# the loaded model and run_robustness's arguments and returns a RobustnessResult of the same shape.
TASK_RUNNERS: Registry[Any] = Registry("robustness_runners", "robustness runner")


@dataclass
class TestResult:
    """One test over the texts it applied to."""

    name: str
    kind: str
    expect: str
    description: str
    examples: int  # texts the test changed
    failures: int
    failure_rate: float
    accuracy: float  # against the gold label (for "away" on two labels: against the other label)
    accuracy_against: str
    worst: list[dict] = field(default_factory=list)

    def to_dict(self) -> dict:
        """A JSON-ready dict."""
        return dict(self.__dict__)


@dataclass
class RobustnessResult:
    """Clean accuracy, one row per test and the attack's summary."""

    model: str
    data: str
    rows: int
    labels: list[str]
    clean_accuracy: float
    tests: list[TestResult]
    attack: dict | None
    synonyms_source: str
    entities_source: str
    seed: int
    seconds: float
    task: str = "classify"  # "ner": clean_accuracy and each test's accuracy are entity F1 against the gold spans

    def to_dict(self) -> dict:
        """The JSON form: ``clean_accuracy``, ``tests`` [{name, failure_rate, accuracy, examples, ...}], ``attack``."""
        return {"model": self.model, "task": self.task, "data": self.data, "rows": self.rows, "labels": self.labels,
                "clean_accuracy": self.clean_accuracy, "tests": [t.to_dict() for t in self.tests],
                "attack": self.attack, "synonyms_source": self.synonyms_source,
                "entities_source": self.entities_source, "seed": self.seed, "seconds": round(self.seconds, 2)}

    def failure_rates(self) -> dict[str, float]:
        """Test name -> failure rate (the tests that applied to at least one text)."""
        return {t.name: t.failure_rate for t in self.tests if t.examples}


def _as_name(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value.item() if hasattr(value, "item") else value)


def read_labelled(data: str | os.PathLike, text_column: str | None, label_column: str | None, limit: int | None,
                  seed: int) -> tuple[list[str], list[str]]:
    """(texts, gold label names) from a labelled file; a seeded sample of ``limit`` rows when it has more."""
    from tamellm.data import infer_columns, read_table

    frame = read_table(data)
    choice = infer_columns(frame, text_column, label_column)
    if choice.label is None:
        raise DataError(f"{data} has no label column: robustness compares predictions with the labels",
                        "name it with --label-column")
    frame = frame.dropna(subset=[choice.label])
    frame = frame[frame[choice.text].fillna("").astype(str).str.strip() != ""]
    if frame.empty:
        raise DataError(f"{data}: no row has both a text and a label", "fill the text and label columns")
    rows = list(range(len(frame)))
    if limit is not None and limit < len(rows):
        rows = sorted(random.Random(seed).sample(rows, limit))
    part = frame.iloc[rows]
    return part[choice.text].astype(str).tolist(), [_as_name(v) for v in part[choice.label]]


def _classifier(loaded: Any) -> Any:
    if loaded.task != "classify" or not hasattr(loaded, "probabilities"):
        raise InputError(f"robustness tests need a fine-tuned classifier or an NER model; {loaded.name} is a "
                         f"'{loaded.task}' model", "pass a classifier or NER model folder, or a run folder "
                         "(tamellm train --data FILE)")
    if getattr(loaded, "multi_label", False):
        raise InputError("robustness tests single-label classifiers; this one is multi-label",
                         "evaluate it with tamellm eval instead")
    return loaded


def _entities(texts: list[str]) -> tuple[dict[str, list[tuple[int, int, str]]], str]:
    """Entity spans per text from the packaged spaCy NER model (and the name lists as well), or none."""
    try:
        from tamellm.tasks import load

        results = load(NER_MODEL).predict(texts)
    except (TamellmError, ImportError, OSError) as exc:
        logger.warning("no NER model (%s): names and places come from word lists only", exc)
        return {}, "name and place lists"
    return ({r.text: [(e.start, e.end, e.label) for e in r.entities] for r in results},
            f"{NER_MODEL} NER + name and place lists")


def _explain_top(loaded: Any, text: str, method: str | None, label: str) -> list[list] | None:
    from tamellm.explanations import explain

    try:
        explanation = explain(loaded, text, method=method, label=label)
    except TamellmError:
        return None
    return [[w.word, round(w.score, 4)] for w in explanation.top(5)]


def run_test(loaded: Any, test: Perturbation, texts: list[str], gold: list[int], before: torch.Tensor,
             context: PerturbContext, seed: int, worst: int = 3, method: str | None = None) -> TestResult:
    """Perturb, predict and score one test; the ``worst`` failures explained."""
    names = loaded.labels
    changed = [(i, out) for i, text in enumerate(texts)
               if (out := test.apply(text, seed, i, context)) is not None]
    against = {"same": "gold label", "keep": "gold label",
               "away": "the other label" if len(names) == 2 else "any label but the gold one"}[test.expect]
    if not changed:
        return TestResult(test.name, test.kind, test.expect, test.description, 0, 0, 0.0, 0.0, against)
    after = loaded.probabilities([out for _, out in changed])
    rows, correct = [], 0
    for row, (i, out) in enumerate(changed):
        was, now = int(before[i].argmax()), int(after[row].argmax())
        p_old, p_new = float(before[i, was]), float(after[row, was])
        if test.expect == "same":
            failed, severity = now != was, p_old - p_new
        elif test.expect == "keep":
            failed, severity = now != was or p_old - p_new > test.tolerance, p_old - p_new
        else:  # "away": the original label's probability must go down
            failed, severity = p_new >= p_old, p_new - p_old
        if test.expect == "away":
            correct += (now == 1 - gold[i]) if len(names) == 2 else (now != gold[i])
        else:
            correct += now == gold[i]
        if failed:
            rows.append({"text": texts[i], "perturbed": out, "label": names[gold[i]], "before": names[was],
                         "before_probability": round(p_old, 4), "after": names[now],
                         "after_probability_of_before": round(p_new, 4), "severity": round(severity, 4)})
    rows.sort(key=lambda r: -r["severity"])
    for row in rows[:worst]:
        row["explanation"] = _explain_top(loaded, row["perturbed"], method, row["after"])
    return TestResult(test.name, test.kind, test.expect, test.description, len(changed), len(rows),
                      len(rows) / len(changed), correct / len(changed), against, rows[:worst])


def choose_tests(tests: list[str] | str | None) -> list[Perturbation]:
    """The tests by name (a list or a comma-separated string); every registered one by default."""
    if tests is None:
        return PERTURBATIONS.values()
    names = [t.strip() for t in tests.split(",")] if isinstance(tests, str) else list(tests)
    return [PERTURBATIONS[name] for name in names if name]


def run_robustness(model: Any, data: str | os.PathLike, text_column: str | None = None,
               label_column: str | None = None, tests: list[str] | str | None = None, limit: int | None = 1000,
               seed: int = 0, attack: bool = True, attack_limit: int = 100, max_fraction: float = 0.3,
               method: str | None = None, worst: int = 3) -> RobustnessResult:
    """Test a classifier on ``data``: every perturbation's failure rate and accuracy, and the attack's success rate.

    An NER model (or any task in ``TASK_RUNNERS``) goes to its own runner (robust/ner.py).

    ``limit`` rows (a seeded sample) are tested; ``attack_limit`` correctly classified
    ones are attacked; ``method`` is the explanation method that ranks words for the
    attack and explains the worst failures (default: the explain layer's default).
    """
    started = time.monotonic()
    if limit is not None and limit < 1:
        raise InputError(f"limit must be at least 1, got {limit}")
    if not 0 < max_fraction <= 1:
        raise InputError(f"max_fraction must be in (0, 1], got {max_fraction}", "e.g. 0.3")
    from tamellm.tasks import TaskModel, load

    loaded = model if isinstance(model, TaskModel) else load(model)
    other = TASK_RUNNERS.get(loaded.task)
    if other is not None:
        return other(loaded, data, text_column=text_column, label_column=label_column, tests=tests, limit=limit,
                     seed=seed, attack=attack, attack_limit=attack_limit, max_fraction=max_fraction, method=method,
                     worst=worst)
    chosen = choose_tests(tests)
    loaded = _classifier(loaded)
    texts, gold_names = read_labelled(data, text_column, label_column, limit, seed)
    names = loaded.labels
    unknown = sorted(set(gold_names) - set(names))
    if unknown:
        raise DataError(f"{data}: labels the model does not know: {unknown[:10]}",
                        f"the model's labels are: {', '.join(names)}")
    gold = [names.index(g) for g in gold_names]
    before = loaded.probabilities(texts)
    predictions = before.argmax(-1).tolist()
    clean = sum(p == g for p, g in zip(predictions, gold, strict=True)) / len(gold)
    wordnet = load_wordnet()
    neighbours = None if wordnet else embedding_neighbours(loaded)
    synonyms = wordnet.synonyms if wordnet else (neighbours or (lambda word: []))
    source = "wordnet" if wordnet else ("embedding neighbours" if neighbours else "none")
    entities, entity_source = (_entities(texts) if any(t.name in ENTITY_TESTS for t in chosen)
                               else ({}, "not used"))
    context = PerturbContext(synonyms=synonyms, parts_of_speech=wordnet.parts_of_speech if wordnet else
                             (lambda word: set()), entities=entities)
    results = []
    for test in chosen:
        results.append(run_test(loaded, test, texts, gold, before, context, seed, worst, method))
        logger.info("%s: %d texts, failure rate %.3f", test.name, results[-1].examples, results[-1].failure_rate)
    summary = None
    if attack:
        summary = greedy_attack(loaded, texts, gold, predictions, synonyms, method=method, limit=attack_limit,
                                max_fraction=max_fraction, seed=seed).to_dict()
        summary["synonyms"] = source
    return RobustnessResult(loaded.name, str(data), len(texts), names, clean, results, summary, source,
                            entity_source, seed, time.monotonic() - started)
