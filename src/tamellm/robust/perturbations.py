"""CheckList-style perturbations: small, seeded functions ``(text, rng, context) -> text | None``.

Each one is registered in ``PERTURBATIONS`` with what the model should do under it:

- ``same`` (invariance): the label must not change (typos, case, punctuation, ...);
- ``away`` (directional): the prediction should move away from the original label
  (adding a negation);
- ``keep`` (directional): the label stays and its probability must not drop by more than
  ``tolerance`` (adding an intensifier).

A function returns None when it does not apply to a text (no contraction to expand, no
name to swap); the runner counts only the texts a test changed. Written here rather than
taken from ``checklist`` / ``textattack``: both run pip or download resources at import.
A separate package adds a test through the ``tamellm_perturbations`` entry point group.
"""

from __future__ import annotations

import random
import re
import string
from collections.abc import Callable
from dataclasses import dataclass, field

from tamellm.registry import Registry
from tamellm.robust.lexicon import STOPWORDS

WORD = re.compile(r"[A-Za-z]+(?:'[A-Za-z]+)?")
KEYBOARD_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")


@dataclass
class PerturbContext:
    """What perturbations may consult besides the text: synonyms, parts of speech, entity spans from NER."""

    synonyms: Callable[[str], list[str]] = lambda word: []
    parts_of_speech: Callable[[str], set[str]] = lambda word: set()
    entities: dict[str, list[tuple[int, int, str]]] = field(default_factory=dict)  # text -> (start, end, label)
    # text -> character spans the word edits (typos) must leave alone: the entities, when testing an NER model
    protected: dict[str, list[tuple[int, int]]] = field(default_factory=dict)


Perturb = Callable[[str, random.Random, PerturbContext], "str | None"]


@dataclass(frozen=True)
class Perturbation:
    """A registered test: its function, kind (invariance / directional) and expectation."""

    name: str
    func: Perturb
    kind: str  # "invariance" | "directional"
    expect: str  # "same" | "away" | "keep"
    description: str
    tolerance: float = 0.0

    def apply(self, text: str, seed: int, index: int, context: PerturbContext) -> str | None:
        """The perturbed text (None when the test does not apply); seeded by (seed, test, example index)."""
        out = self.func(text, random.Random(f"{seed}:{self.name}:{index}"), context)
        return None if out is None or out == text else out


PERTURBATIONS: Registry[Perturbation] = Registry("perturbations", "robustness test")


def perturbation(name: str, description: str, kind: str = "invariance", expect: str = "same",
                 tolerance: float = 0.0) -> Callable[[Perturb], Perturb]:
    """Register the decorated function as the robustness test ``name``."""

    def add(func: Perturb) -> Perturb:
        PERTURBATIONS.register(name, Perturbation(name, func, kind, expect, description, tolerance))
        return func

    return add


# --- helpers ---------------------------------------------------------------------------------------------------


def _words(text: str, min_length: int = 1) -> list[re.Match]:
    return [m for m in WORD.finditer(text) if len(m.group()) >= min_length]


def _replace(text: str, start: int, end: int, new: str) -> str:
    return text[:start] + new + text[end:]


def _match_case(word: str, like: str) -> str:
    if like.isupper() and len(like) > 1:
        return word.upper()
    return word.capitalize() if like[:1].isupper() else word


def _edit_words(text: str, rng: random.Random, edit: Callable[[str, random.Random], str], min_length: int = 4,
                per_words: int = 10, protected: list[tuple[int, int]] = ()) -> str | None:
    """Apply ``edit`` to one word in every ``per_words`` (at least one), chosen among words of ``min_length``+
    outside the ``protected`` spans."""
    candidates = [m for m in _words(text, min_length) if "'" not in m.group()
                  and not any(s < m.end() and m.start() < e for s, e in protected)]
    if not candidates:
        return None
    chosen = rng.sample(candidates, max(1, min(len(candidates), len(_words(text)) // per_words)))
    for match in sorted(chosen, key=lambda m: -m.start()):  # right to left: earlier offsets stay valid
        text = _replace(text, match.start(), match.end(), edit(match.group(), rng))
    return text


def _neighbour_key(char: str, rng: random.Random) -> str:
    for row_index, row in enumerate(KEYBOARD_ROWS):
        col = row.find(char.lower())
        if col < 0:
            continue
        near = [row[c] for c in (col - 1, col + 1) if 0 <= c < len(row)]
        for other in (row_index - 1, row_index + 1):
            if 0 <= other < len(KEYBOARD_ROWS) and col < len(KEYBOARD_ROWS[other]):
                near.append(KEYBOARD_ROWS[other][col])
        pick = rng.choice(near)
        return pick.upper() if char.isupper() else pick
    return char


# --- invariance: typos ------------------------------------------------------------------------------------------


@perturbation("typo-keyboard", "one letter in ~10 words replaced by a keyboard neighbour")
def typo_keyboard(text: str, rng: random.Random, context: PerturbContext) -> str | None:
    def edit(word: str, r: random.Random) -> str:
        i = r.randrange(1, len(word))
        return word[:i] + _neighbour_key(word[i], r) + word[i + 1:]

    return _edit_words(text, rng, edit, protected=context.protected.get(text, []))


@perturbation("typo-swap", "two adjacent letters swapped in ~1 word in 10")
def typo_swap(text: str, rng: random.Random, context: PerturbContext) -> str | None:
    def edit(word: str, r: random.Random) -> str:
        i = r.randrange(1, len(word) - 1)
        return word[:i] + word[i + 1] + word[i] + word[i + 2:]

    return _edit_words(text, rng, edit, protected=context.protected.get(text, []))


@perturbation("typo-drop", "one letter dropped in ~1 word in 10")
def typo_drop(text: str, rng: random.Random, context: PerturbContext) -> str | None:
    def edit(word: str, r: random.Random) -> str:
        i = r.randrange(1, len(word))
        return word[:i] + word[i + 1:]

    return _edit_words(text, rng, edit, protected=context.protected.get(text, []))


@perturbation("typo-double", "one letter doubled in ~1 word in 10")
def typo_double(text: str, rng: random.Random, context: PerturbContext) -> str | None:
    def edit(word: str, r: random.Random) -> str:
        i = r.randrange(1, len(word))
        return word[:i] + word[i] + word[i:]

    return _edit_words(text, rng, edit, protected=context.protected.get(text, []))


# --- invariance: case, punctuation, whitespace, contractions ---------------------------------------------------


@perturbation("lowercase", "the whole text lower-cased")
def lowercase(text: str, rng: random.Random, context: PerturbContext) -> str | None:
    return text.lower()


@perturbation("uppercase", "the whole text upper-cased")
def uppercase(text: str, rng: random.Random, context: PerturbContext) -> str | None:
    return text.upper()


PUNCTUATION = re.compile(r"\s*[" + re.escape(string.punctuation.replace("'", "")) + r"]+(?=\s|$)")


@perturbation("punctuation", "punctuation removed (or a full stop added to a text without any)")
def punctuation(text: str, rng: random.Random, context: PerturbContext) -> str | None:
    stripped = PUNCTUATION.sub("", text).strip()
    if stripped and stripped != text.strip():
        return stripped
    return text.rstrip() + "."


@perturbation("whitespace", "spaces doubled between some words, and around the text")
def whitespace(text: str, rng: random.Random, context: PerturbContext) -> str | None:
    pieces = text.split(" ")
    return "  " + " ".join(p + (" " if rng.random() < 0.3 else "") for p in pieces) + " \n"


CONTRACTIONS = {"is not": "isn't", "are not": "aren't", "was not": "wasn't", "were not": "weren't",
                "do not": "don't", "does not": "doesn't", "did not": "didn't", "has not": "hasn't",
                "have not": "haven't", "had not": "hadn't", "can not": "can't", "cannot": "can't",
                "will not": "won't", "would not": "wouldn't", "could not": "couldn't", "should not": "shouldn't",
                "it is": "it's", "that is": "that's", "there is": "there's", "what is": "what's",
                "i am": "i'm", "you are": "you're", "we are": "we're", "they are": "they're",
                "i have": "i've", "you have": "you've", "we have": "we've", "they have": "they've",
                "i will": "i'll", "you will": "you'll", "it will": "it'll", "i would": "i'd"}
# SST-style tokenized text writes "is n't", "it 's": a space may stand before "n't" or the apostrophe.
EXPANSIONS = {short: long for long, short in CONTRACTIONS.items() if long != "cannot"}


def _spaced(short: str) -> str:
    return re.sub(r"(n't|'\w+)$", lambda m: " ?" + m.group(1), re.escape(short).replace("\\'", "'"))


def _squeeze(found: str) -> str:
    return re.sub(r"\s+(?=n't|')", "", found.lower())


def _swap_phrases(text: str, table: dict[str, str], spaced: bool) -> str:
    keys = sorted(table, key=len, reverse=True)
    pattern = re.compile(r"\b(" + "|".join(_spaced(k) if spaced else re.escape(k) for k in keys) + r")(?!\w)",
                         re.IGNORECASE)
    return pattern.sub(lambda m: _match_case(table[_squeeze(m.group())], m.group()), text)


@perturbation("contractions", "contractions expanded (isn't -> is not), or phrases contracted when there are none")
def contractions(text: str, rng: random.Random, context: PerturbContext) -> str | None:
    expanded = _swap_phrases(text, EXPANSIONS, spaced=True)
    return expanded if expanded != text else _swap_phrases(text, CONTRACTIONS, spaced=False)


# --- invariance: entities, synonyms, distractors --------------------------------------------------------------

NAMES = ("john", "mary", "david", "sarah", "michael", "emma", "james", "olivia", "robert", "sophia", "daniel",
         "laura", "thomas", "anna", "kevin", "maria", "peter", "julia", "steven", "linda")
PLACES = ("paris", "london", "chicago", "tokyo", "berlin", "madrid", "toronto", "sydney", "boston", "rome",
          "dublin", "seattle", "mexico", "india", "canada", "france", "germany", "brazil", "egypt", "texas")
NUMBER_WORDS = ("two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "twelve")
ENTITY_KINDS = {"names": ({"PERSON", "PER"}, NAMES), "places": ({"GPE", "LOC", "LOCATION"}, PLACES)}


def _swap_entities(text: str, rng: random.Random, context: PerturbContext, kind: str) -> str | None:
    """Swap each span NER labelled as ``kind`` (plus known list words the NER missed, e.g. in lower-cased text)."""
    labels, pool = ENTITY_KINDS[kind]
    spans = [(s, e) for s, e, label in context.entities.get(text, []) if label in labels]
    spans += [(m.start(), m.end()) for m in _words(text) if m.group().lower() in pool
              and not any(s <= m.start() < e for s, e in spans)]
    if not spans:
        return None
    for start, end in sorted(spans, reverse=True):
        old = text[start:end]
        new = rng.choice([p for p in pool if p != old.lower()])
        text = _replace(text, start, end, _match_case(new, old) if old[:1].isupper() or old.islower()
                        else new.capitalize())
    return text


@perturbation("swap-names", "people's names (found by NER, or from a name list) swapped for other names")
def swap_names(text: str, rng: random.Random, context: PerturbContext) -> str | None:
    return _swap_entities(text, rng, context, "names")


@perturbation("swap-places", "places (found by NER, or from a place list) swapped for other places")
def swap_places(text: str, rng: random.Random, context: PerturbContext) -> str | None:
    return _swap_entities(text, rng, context, "places")


NUMBER = re.compile(r"\b\d+(?:[.,]\d+)?\b|\b(?:" + "|".join(NUMBER_WORDS) + r")\b", re.IGNORECASE)


@perturbation("swap-numbers", "numbers (digits and number words) changed to other numbers")
def swap_numbers(text: str, rng: random.Random, context: PerturbContext) -> str | None:
    def other(match: re.Match) -> str:
        old = match.group()
        if old.lower() in NUMBER_WORDS:
            return _match_case(rng.choice([w for w in NUMBER_WORDS if w != old.lower()]), old)
        digits = re.sub(r"\d", lambda _: str(rng.randrange(10)), old)
        return digits if digits != old else str(int(old[0]) % 9 + 1) + old[1:]

    out = NUMBER.sub(other, text)
    return out if out != text else None


@perturbation("synonyms", "up to 1 in 8 nouns and verbs (not the adjectives and adverbs that carry opinion, "
              "not stopwords) replaced by a synonym")
def synonyms(text: str, rng: random.Random, context: PerturbContext) -> str | None:
    candidates = []
    for match in _words(text, 3):
        word = match.group().lower()
        if word in STOPWORDS:
            continue
        pos = context.parts_of_speech(word)
        if pos and not pos & {"noun", "verb"} or pos & {"adj", "adv"}:
            continue
        # inflected forms of the word itself ("journey" -> "journeying") are not synonyms
        options = [o for o in context.synonyms(word) if not (o.startswith(word[:4]) or word.startswith(o[:4]))]
        if options:
            candidates.append((match, options))
    if not candidates:
        return None
    chosen = rng.sample(candidates, min(len(candidates), max(1, len(_words(text)) // 8)))
    for match, options in sorted(chosen, key=lambda c: -c[0].start()):
        text = _replace(text, match.start(), match.end(), _match_case(options[0], match.group()))
    return text


DISTRACTORS = ("The weather report said it would rain on Tuesday.", "I read this on my phone during lunch.",
               "My cousin lives in another city.", "The meeting was moved to the second floor.",
               "See https://example.com/page for details.", "cc @someone", "Posted at 10:42 am.",
               "The train was running five minutes late.")


@perturbation("add-irrelevant", "an unrelated sentence, link or handle appended")
def add_irrelevant(text: str, rng: random.Random, context: PerturbContext) -> str | None:
    text = text.rstrip()
    return text + ("" if text[-1:] in string.punctuation else ".") + " " + rng.choice(DISTRACTORS)


# --- directional ------------------------------------------------------------------------------------------------

AUXILIARIES = ("is", "are", "was", "were", "do", "does", "did", "has", "have", "had", "can", "could", "will",
               "would", "should", "must", "may", "might")
NEGATED = re.compile(r"\b(" + "|".join(AUXILIARIES + ("ca", "wo")) + r")(n't| n't| not)\b", re.IGNORECASE)
AUXILIARY = re.compile(r"\b(" + "|".join(AUXILIARIES) + r")\b", re.IGNORECASE)
UNDO = {"ca": "can", "wo": "will"}


@perturbation("negation", "a negation added after the first auxiliary verb (or an existing one removed): "
              "the prediction should move away from its label", kind="directional", expect="away")
def negation(text: str, rng: random.Random, context: PerturbContext) -> str | None:
    found = NEGATED.search(text)
    if found:
        verb = found.group(1)
        return _replace(text, found.start(), found.end(), UNDO.get(verb.lower(), verb))
    found = AUXILIARY.search(text)
    if found is None:
        return None
    return _replace(text, found.end(), found.end(), " not")


INTENSIFIERS = ("really", "very", "truly")  # consonant-initial: "a charming" -> "a very charming"


@perturbation("intensifier", "an intensifier (very, really, ...) put before the first adjective: the label "
              "should hold and its probability not drop by more than 0.1", kind="directional", expect="keep",
              tolerance=0.1)
def intensifier(text: str, rng: random.Random, context: PerturbContext) -> str | None:
    words = _words(text, 3)
    for i, match in enumerate(words):
        word = match.group().lower()
        pos = context.parts_of_speech(word)
        # an adjective that is not also a verb form ("said" is an adjective in WordNet too)
        if word in STOPWORDS or word in INTENSIFIERS or "adj" not in pos or "verb" in pos or word.endswith("ed"):
            continue
        before = words[i - 1].group().lower() if i else ""
        if before in INTENSIFIERS:
            continue
        return _replace(text, match.start(), match.start(), rng.choice(INTENSIFIERS) + " ")
    return None
