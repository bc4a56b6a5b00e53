"""Which watched entities a text is about: watchlist aliases, cashtags, and (optionally) spaCy organisations."""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable, Sequence
from pathlib import Path

import yaml

from tamellm.errors import ConfigError, DataError

log = logging.getLogger("tamellm.apps.monitor")

CASHTAG = re.compile(r"(?<![\w$])\$([A-Za-z][A-Za-z0-9.]{0,9})\b")
# Legal-form words that name the same company ("Globex Corp." is "Globex Corporation" is "Globex").
LEGAL_FORMS = {"inc", "incorporated", "corp", "corporation", "co", "company", "ltd", "limited", "plc", "llc", "lp",
               "group", "holdings", "holding", "sa", "ag", "nv", "se", "the"}


def organisation_key(name: str) -> str:
    """A company name without case, punctuation, possessive and legal-form words: the key NER matches on."""
    words = re.sub(r"'s\b", "", name.casefold()).replace("&", " and ")
    kept = [w for w in re.findall(r"[\w]+", words) if w not in LEGAL_FORMS]
    return " ".join(kept)


def load_watchlist(source: str | os.PathLike | dict) -> dict[str, list[str]]:
    """``ENTITY: [alias, ...]`` from a YAML file (or a dict); the entity's own name is always an alias."""
    if isinstance(source, dict):
        raw, name = source, "watchlist"
    else:
        path = Path(source)
        if not path.is_file():
            raise DataError(f"Watchlist {path} not found", "pass a YAML file such as  AAPL: [Apple, $AAPL]")
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise ConfigError(f"Watchlist {path} is not valid YAML: {exc}") from None
        name = str(path)
    if not isinstance(raw, dict) or not raw:
        raise ConfigError(f"{name}: expected a mapping ENTITY: [alias, ...]",
                          "e.g.  AAPL: [Apple, $AAPL, iPhone maker]")
    watchlist: dict[str, list[str]] = {}
    for entity, aliases in raw.items():
        if aliases is None:
            aliases = []
        elif isinstance(aliases, str):
            aliases = [aliases]
        if not isinstance(aliases, list) or not all(isinstance(a, str | int | float) for a in aliases):
            raise ConfigError(f"{name}: aliases of '{entity}' must be a list of strings",
                              f"e.g.  {entity}: [{entity}, ${entity}]")
        names = [str(entity), *(str(a) for a in aliases)]
        watchlist[str(entity)] = list(dict.fromkeys(a.strip() for a in names if str(a).strip()))
    return watchlist


def _alias_pattern(alias: str) -> str:
    # Word boundaries where the alias starts/ends with a word character ("$AAPL" starts with '$').
    body = re.escape(alias)
    start = r"(?<!\w)" if alias[0].isalnum() or alias[0] == "$" else ""
    end = r"(?!\w)" if alias[-1].isalnum() else ""
    return start + body + end


class EntityMatcher:
    """Finds the watched entities in texts.

    An alias matches as whole words, ignoring case ("apple" in "Apple's" counts, "pineapple"
    does not); a cashtag ``$XYZ`` matches the entity XYZ when it is watched, or any cashtag
    when ``all_cashtags`` is on; ``ner`` (a function texts -> organisation names per text,
    e.g. from ``tamellm.ner``) adds organisations whose name is an alias once case, punctuation and
    legal forms are set aside (``Globex Corp.`` for the alias ``Globex Corporation``), which the
    exact alias match misses.
    """

    def __init__(self, watchlist: dict[str, list[str]], all_cashtags: bool = False,
                 ner: Callable[[list[str]], list[list[str]]] | None = None) -> None:
        self.watchlist = watchlist
        self.all_cashtags = all_cashtags
        self.ner = ner
        self._by_alias: dict[str, str] = {}
        for entity, aliases in watchlist.items():
            for alias in aliases:
                self._by_alias.setdefault(alias.lower(), entity)
        self._by_organisation = {organisation_key(a): e for a, e in self._by_alias.items() if organisation_key(a)}
        ordered = sorted(self._by_alias, key=len, reverse=True)  # longest first: "Apple Inc" before "Apple"
        self._pattern = re.compile("|".join(_alias_pattern(a) for a in ordered), re.IGNORECASE) if ordered else None
        self._tickers = {e.upper(): e for e in watchlist}

    def match(self, text: str) -> list[str]:
        """The entities ``text`` mentions, each once, in order of first mention."""
        found: list[tuple[int, str]] = []
        if self._pattern is not None:
            found += [(m.start(), self._by_alias[m.group(0).lower()]) for m in self._pattern.finditer(text)]
        for m in CASHTAG.finditer(text):
            tag = m.group(1)
            entity = self._tickers.get(tag.upper()) or self._by_alias.get(f"${tag}".lower())
            if entity is None and self.all_cashtags:
                entity = tag.upper()
            if entity:
                found.append((m.start(), entity))
        return list(dict.fromkeys(entity for _, entity in sorted(found)))

    def match_many(self, texts: Sequence[str]) -> list[list[str]]:
        """``match`` for each text, plus the organisations the NER function finds."""
        matched = [self.match(t) for t in texts]
        if self.ner is not None and texts:
            for found, orgs in zip(matched, self.ner(list(texts)), strict=True):
                for org in orgs:
                    entity = self._by_alias.get(org.strip().lower()) or self._by_organisation.get(organisation_key(org))
                    if entity and entity not in found:
                        found.append(entity)
        return matched


def spacy_organisations(model: str | None = None) -> Callable[[list[str]], list[list[str]]]:
    """A function texts -> ORG names per text, through the public ``tamellm.ner`` (spaCy by default)."""
    import tamellm.api as api

    name = model or "spacy-en-sm"

    def find(texts: list[str]) -> list[list[str]]:
        results = api.ner(texts, model=name)
        results = results if isinstance(results, list) else [results]
        return [[e.text for e in r.entities if e.label == "ORG"] for r in results]

    return find
