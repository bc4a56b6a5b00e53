"""Robustness of an NER model over CoNLL-like data: invariance tests and a greedy attack on context words.

A sentence's gold entities (from its IOB tags) tell the tests what they may touch: typos
go only into words outside the entities (the gold ones and those the model finds); case,
punctuation and whitespace change the whole sentence; an entity is swapped for another of
the same type (a name for a name); an unrelated sentence is appended. A test fails on a
sentence when the set of entities the model finds changes: compared as (text, type) pairs
with case, punctuation and spacing normalised, the swapped entity mapped to its
replacement, and only over the original sentence (what the model finds in an appended
distractor does not count).
"""

from __future__ import annotations

import logging
import os
import random
import re
import string
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tamellm.errors import DataError, InputError
from tamellm.registry import Registry
from tamellm.robust.lexicon import STOPWORDS, load_wordnet
from tamellm.robust.perturbations import NAMES, PERTURBATIONS, PLACES, PerturbContext
from tamellm.robust.runner import TASK_RUNNERS, RobustnessResult, TestResult

logger = logging.getLogger(__name__)
Span = tuple[int, int, str]  # start, end (exclusive), entity type
Key = tuple[str, str]  # normalised entity text, entity type

ORGS = ("Acme", "Globex", "Initech", "Umbrella Corporation", "Stark Industries", "Wayne Enterprises", "Hooli",
        "Cyberdyne Systems", "Soylent", "Vandelay Industries")
# Entity types across tag sets (CoNLL PER / spaCy PERSON, LOC / GPE, ...): one family per swap pool and for
# scoring a model whose tag set differs from the data's.
TYPE_FAMILY = {"PER": "PER", "PERSON": "PER", "LOC": "LOC", "GPE": "LOC", "LOCATION": "LOC", "ORG": "ORG",
               "ORGANIZATION": "ORG", "ORGANISATION": "ORG"}
# Classifier perturbations whose meaning carries over to NER unchanged: the entity set must stay.
SHARED_TESTS = ("typo-keyboard", "typo-swap", "typo-drop", "typo-double", "lowercase", "uppercase", "punctuation",
                "whitespace", "add-irrelevant")


@dataclass
class Variant:
    """A perturbed sentence: its text, the part of it that is the original sentence, and the entity renames."""

    text: str
    region: int  # entities starting at or after this offset are not compared (an appended distractor)
    renames: dict[str, str] = field(default_factory=dict)  # normalised old entity text -> normalised new


@dataclass
class NerExample:
    """One sentence of the data: its text (tokens joined by spaces) and gold entity spans."""

    text: str
    gold: list[Span]


NerTest = Callable[[NerExample, random.Random, PerturbContext], "Variant | None"]


@dataclass(frozen=True)
class NerPerturbation:
    """A registered NER test: its function and what it does."""

    name: str
    func: NerTest
    description: str

    def apply(self, example: NerExample, seed: int, index: int, context: PerturbContext) -> Variant | None:
        """The perturbed sentence (None when the test does not apply); seeded by (seed, test, index)."""
        out = self.func(example, random.Random(f"{seed}:{self.name}:{index}"), context)
        return None if out is None or out.text == example.text else out


NER_PERTURBATIONS: Registry[NerPerturbation] = Registry("ner_perturbations", "NER robustness test")


def ner_perturbation(name: str, description: str) -> Callable[[NerTest], NerTest]:
    """Register the decorated function as the NER robustness test ``name``."""

    def add(func: NerTest) -> NerTest:
        NER_PERTURBATIONS.register(name, NerPerturbation(name, func, description))
        return func

    return add


def _shared(name: str) -> NerTest:
    """A classifier perturbation as an NER test; the typos skip the entities (``context.protected``)."""
    test = PERTURBATIONS[name]

    def run(example: NerExample, rng: random.Random, context: PerturbContext) -> Variant | None:
        out = test.func(example.text, rng, context)
        if out is None:
            return None
        # an appended sentence starts after the original one: its entities are not compared
        return Variant(out, len(example.text.rstrip()) if name == "add-irrelevant" else len(out) + 1)

    return run


for _name in SHARED_TESTS:
    _test = PERTURBATIONS[_name]
    suffix = " (outside the entities)" if _name.startswith("typo") else ""
    ner_perturbation(_name, _test.description + suffix)(_shared(_name))


def _swap(family: str, pool: tuple[str, ...]) -> NerTest:
    def run(example: NerExample, rng: random.Random, context: PerturbContext) -> Variant | None:
        spans = [(s, e) for s, e, label in example.gold if TYPE_FAMILY.get(label.upper()) == family]
        if not spans:
            return None
        text, renames = example.text, {}
        for start, end in sorted(spans, reverse=True):  # right to left: earlier offsets stay valid
            old = text[start:end]
            new = rng.choice([p for p in pool if p.lower() != old.lower()])
            new = new if new[:1].isupper() else new.capitalize()
            renames[normalise(old)] = normalise(new)
            text = text[:start] + new + text[end:]
        return Variant(text, len(text) + 1, renames)

    return run


for _name, _family, _pool, _what in (("swap-names", "PER", NAMES, "people"), ("swap-places", "LOC", PLACES, "places"),
                                     ("swap-orgs", "ORG", ORGS, "organisations")):
    ner_perturbation(_name, f"each gold entity of {_what} swapped for another of the same type: the model must "
                            "find the new one in its place")(_swap(_family, _pool))

_PUNCT = re.compile(f"[{re.escape(string.punctuation)}]")


def normalise(text: str) -> str:
    """Entity text compared without case, punctuation and spacing differences."""
    return " ".join(_PUNCT.sub(" ", text.lower()).split())


def _keys(entities: list[Any], region: int, renames: dict[str, str] | None = None,
          types: set[str] | None = None) -> Counter[Key]:
    """The (text, type) multiset of the entities starting before ``region`` whose type family is in ``types``
    (all when None); ``renames`` applied to the text."""
    out: Counter[Key] = Counter()
    for e in entities:
        kind = TYPE_FAMILY.get(e.label.upper(), e.label.upper())
        if e.start >= region or (types is not None and kind not in types):
            continue
        text = normalise(e.text)
        for old, new in (renames or {}).items():
            text = re.sub(rf"\b{re.escape(old)}\b", new, text) if old else text
        out[(text, kind)] += 1
    return out


@dataclass
class _Gold:
    text: str
    label: str
    start: int
    end: int


def _gold_entities(example: NerExample) -> list[_Gold]:
    return [_Gold(example.text[s:e], label, s, e) for s, e, label in example.gold]


def _f1(found: Counter[Key], gold: Counter[Key]) -> float:
    """Entity-level F1 of one prediction multiset against the gold one (1.0 when both are empty)."""
    if not found and not gold:
        return 1.0
    return 2 * sum((found & gold).values()) / (sum(found.values()) + sum(gold.values()))


def _spans(tags: list[str], offsets: list[tuple[int, int]]) -> list[Span]:
    """Character spans from IOB1/IOB2/BIOES-style tags: B-/S- start an entity, I-/E- of the same type continue it."""
    spans: list[list] = []
    for tag, (start, end) in zip(tags, offsets, strict=True):
        prefix, _, kind = tag.partition("-")
        if tag == "O" or not kind:
            spans.append(None)
            continue
        if prefix.upper() in ("I", "E") and spans and spans[-1] is not None and spans[-1][2] == kind:
            spans[-1][1] = end
        else:
            spans.append([start, end, kind])
    return [tuple(s) for s in spans if s is not None]


def read_ner_examples(data: str | os.PathLike, limit: int | None, seed: int) -> list[NerExample]:
    """Sentences of a CoNLL / JSONL NER file as texts with gold spans; a seeded sample of ``limit`` of them."""
    from tamellm.data import read_ner

    examples = []
    for sentence in read_ner(data):
        offsets, position = [], 0
        for token in sentence["tokens"]:
            offsets.append((position, position + len(token)))
            position += len(token) + 1
        examples.append(NerExample(" ".join(sentence["tokens"]), _spans(sentence["tags"], offsets)))
    if limit is not None and limit < len(examples):
        examples = [examples[i] for i in sorted(random.Random(seed).sample(range(len(examples)), limit))]
    return examples


def _describe(keys: Counter[Key]) -> list[str]:
    return sorted(f"{text} ({kind})" for (text, kind), n in keys.items() for _ in range(n))


def run_ner_test(loaded: Any, test: NerPerturbation, examples: list[NerExample], clean: list[Any],
                 context: PerturbContext, seed: int, worst: int = 3, types: set[str] | None = None) -> TestResult:
    """Perturb, predict and score one test: failure = the entity set changed; accuracy = entity F1 vs gold."""
    changed = [(i, out) for i, ex in enumerate(examples) if (out := test.apply(ex, seed, i, context)) is not None]
    if not changed:
        return TestResult(test.name, "invariance", "same", test.description, 0, 0, 0.0, 0.0, "gold entities (F1)")
    after = loaded.predict([v.text for _, v in changed])
    rows, f1 = [], 0.0
    for (i, variant), result in zip(changed, after, strict=True):
        expected = _keys(clean[i].entities, len(examples[i].text) + 1, variant.renames, types)
        found = _keys(result.entities, variant.region, types=types)
        f1 += _f1(found, _keys(_gold_entities(examples[i]), len(examples[i].text) + 1, variant.renames))
        if found != expected:
            lost, extra = expected - found, found - expected
            rows.append({"text": examples[i].text, "perturbed": variant.text, "expected": _describe(expected),
                         "found": _describe(found), "lost": _describe(lost), "extra": _describe(extra),
                         "severity": sum(lost.values()) + sum(extra.values())})
    rows.sort(key=lambda r: -r["severity"])
    return TestResult(test.name, "invariance", "same", test.description, len(changed), len(rows),
                      len(rows) / len(changed), f1 / len(changed), "gold entities (F1)", rows[:worst])


def _strength(entities: list[Any], keys: Counter[Key]) -> float:
    """How much of the original entity set survives: the summed scores of its entities still found."""
    still = Counter(keys)
    total = 0.0
    for e in entities:
        key = (normalise(e.text), TYPE_FAMILY.get(e.label.upper(), e.label.upper()))
        if still[key] > 0:
            still[key] -= 1
            total += e.score if e.score is not None else 1.0
    return total


def attack_ner_one(loaded: Any, example: NerExample, entities: list[Any], synonyms: Callable[[str], list[str]],
                   max_fraction: float, max_candidates: int, types: set[str] | None = None) -> dict:
    """Replace context words by synonyms, greedily, until the entity set changes (a success) or the budget ends.

    Words are tried nearest to an entity first: the context right beside an entity is what a
    tagger reads to decide its type and boundaries (token attributions would cost one
    explanation per entity and token). Each step keeps the synonym that most lowers the
    summed scores of the original entities still found.
    """
    text = example.text
    keys = _keys(entities, len(text) + 1, types=types)
    covered = [(e.start, e.end) for e in entities] + [(s, e) for s, e, _ in example.gold]
    words = [m for m in re.finditer(r"[A-Za-z]+", text)]
    context_words = [m for m in words if m.group().lower() not in STOPWORDS
                     and not any(s < m.end() and m.start() < e for s, e in covered)]

    def distance(m: re.Match) -> int:
        return min((abs(m.start() - e) if m.start() >= e else abs(s - m.end()) for s, e in covered), default=0)

    ranked = sorted(context_words, key=distance)
    budget = max(1, round(max_fraction * len(words)))
    changes: dict[tuple[int, int], str] = {}
    current, queries = _strength(entities, keys), 0

    def render(extra: dict[tuple[int, int], str]) -> str:
        out = text
        for (s, e), new in sorted(extra.items(), reverse=True):
            out = out[:s] + new + out[e:]
        return out

    for match in ranked:
        if len(changes) >= budget:
            break
        word = match.group()
        options = [o for o in synonyms(word.lower()) if o.isalpha() and o != word.lower()][:max_candidates]
        if not options:
            continue
        variants = [render({**changes, (match.start(), match.end()): o}) for o in options]
        results = loaded.predict(variants)
        queries += len(variants)
        strengths = [_strength(r.entities, keys) for r in results]
        flipped = [k for k, r in enumerate(results) if _keys(r.entities, len(r.text) + 1, types=types) != keys]
        best = min(flipped or range(len(options)), key=lambda k: strengths[k])
        if flipped or strengths[best] < current:
            changes[(match.start(), match.end())] = options[best]
            current = strengths[best]
        if flipped:
            found = _keys(results[best].entities, len(results[best].text) + 1, types=types)
            return {"success": True, "text": text, "adversarial": variants[best], "changed": len(changes),
                    "words": len(words), "queries": queries, "method": "nearest-to-entity",
                    "swaps": [[text[s:e], new] for (s, e), new in sorted(changes.items())],
                    "lost": _describe(keys - found), "extra": _describe(found - keys)}
    return {"success": False, "text": text, "adversarial": render(changes), "changed": len(changes),
            "words": len(words), "queries": queries, "method": "nearest-to-entity"}


def attack_ner(loaded: Any, examples: list[NerExample], clean: list[Any], synonyms: Callable[[str], list[str]],
               limit: int, max_fraction: float, seed: int, max_candidates: int = 8, keep_examples: int = 5,
               types: set[str] | None = None) -> dict:
    """Attack up to ``limit`` sentences whose entities the model finds exactly (a seeded sample); summarise."""
    right = [i for i, ex in enumerate(examples) if ex.gold
             and _keys(clean[i].entities, len(ex.text) + 1, types=types) == _keys(_gold_entities(ex), len(ex.text) + 1)]
    chosen = sorted(random.Random(seed).sample(right, min(limit, len(right))))
    runs = [attack_ner_one(loaded, examples[i], clean[i].entities, synonyms, max_fraction, max_candidates, types)
            for i in chosen]
    wins = [r for r in runs if r["success"]]
    n = max(1, len(runs))
    return {"success_rate": len(wins) / n, "attacked": len(runs), "successes": len(wins),
            "mean_words_changed": sum(r["changed"] for r in wins) / max(1, len(wins)),
            "mean_fraction_changed": sum(r["changed"] / max(1, r["words"]) for r in wins) / max(1, len(wins)),
            "mean_queries": sum(r["queries"] for r in runs) / n,
            "accuracy_under_attack": 1 - len(wins) / n if runs else 0.0, "method": "nearest-to-entity",
            "max_fraction": max_fraction, "examples": sorted(wins, key=lambda r: r["changed"])[:keep_examples]}


def choose_ner_tests(tests: list[str] | str | None) -> list[NerPerturbation]:
    """The NER tests by name (a list or a comma-separated string); every registered one by default."""
    if tests is None:
        return NER_PERTURBATIONS.values()
    names = [t.strip() for t in tests.split(",")] if isinstance(tests, str) else list(tests)
    return [NER_PERTURBATIONS[name] for name in names if name]


def run_ner_robustness(loaded: Any, data: str | os.PathLike, text_column: str | None = None,
                       label_column: str | None = None, tests: list[str] | str | None = None,
                       limit: int | None = 1000, seed: int = 0, attack: bool = True, attack_limit: int = 100,
                       max_fraction: float = 0.3, method: str | None = None, worst: int = 3) -> RobustnessResult:
    """Test an NER model on a CoNLL / JSONL NER file: each test's failure rate (entity set changed) and entity F1
    under it; ``clean_accuracy`` is the clean entity F1 (mean over sentences); the attack's success rate."""
    started = time.monotonic()
    if text_column or label_column:
        raise InputError("an NER file has tokens and tags, not columns: --text-column / --label-column do not "
                         "apply", "give a CoNLL file (token ... tag per line) or JSONL with tokens and tags")
    if method is not None:
        logger.info("the NER attack ranks words by distance to an entity; method %r is not used", method)
    chosen = choose_ner_tests(tests)
    examples = read_ner_examples(data, limit, seed)
    if not any(ex.gold for ex in examples):
        raise DataError(f"{data}: no sentence has a gold entity", "tag the entities (B-PER, I-PER, B-LOC, ...)")
    # only the entity types the data tags are compared (spaCy's DATE or CARDINAL are neither right nor wrong
    # against CoNLL gold); PERSON / PER and GPE / LOC count as one type
    types = {TYPE_FAMILY.get(label.upper(), label.upper()) for ex in examples for _, _, label in ex.gold}
    clean = loaded.predict([ex.text for ex in examples])
    clean_f1 = sum(_f1(_keys(r.entities, len(ex.text) + 1, types=types),
                       _keys(_gold_entities(ex), len(ex.text) + 1))
                   for ex, r in zip(examples, clean, strict=True)) / len(examples)
    wordnet = load_wordnet()
    # typos go outside the gold entities and outside what the model itself finds: a typo inside a span the model
    # calls an entity would change that entity's text, not test the context around it
    context = PerturbContext(protected={ex.text: [(s, e) for s, e, _ in ex.gold]
                                        + [(e.start, e.end) for e in r.entities]
                                        for ex, r in zip(examples, clean, strict=True)})
    results = [run_ner_test(loaded, test, examples, clean, context, seed, worst, types) for test in chosen]
    summary = None
    if attack:
        synonyms = wordnet.synonyms if wordnet else (lambda word: [])
        summary = attack_ner(loaded, examples, clean, synonyms, attack_limit, max_fraction, seed, types=types)
        summary["synonyms"] = "wordnet" if wordnet else "none (no WordNet: the attack changes nothing)"
    labels = sorted({label for ex in examples for _, _, label in ex.gold})
    return RobustnessResult(loaded.name, str(data), len(examples), labels, clean_f1, results, summary,
                            "wordnet" if wordnet else "none", "gold spans of the data", seed,
                            time.monotonic() - started, task="ner")


TASK_RUNNERS.register("ner", run_ner_robustness)
