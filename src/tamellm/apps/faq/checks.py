"""Checks on a customer's question: present, not too long, written in the FAQ's script."""

from __future__ import annotations

import unicodedata
from collections import Counter

from tamellm.errors import InputError

MAX_QUESTION_CHARS = 2000  # a customer's question; longer text is a document, not a question

# Scripts named by the first word of a letter's Unicode name; a few need two words or a rename.
_SCRIPT_ALIASES = {"CJK": "Han", "HIRAGANA": "Japanese", "KATAKANA": "Japanese", "HANGUL": "Hangul"}


def script_of(char: str) -> str | None:
    """The script of a letter ('Latin', 'Cyrillic', 'Han', ...); None for anything but a letter."""
    if not unicodedata.category(char).startswith("L"):
        return None
    name = unicodedata.name(char, "")
    if not name:
        return None
    first = name.split()[0]
    return _SCRIPT_ALIASES.get(first, first.title())


def script_counts(texts: list[str] | str) -> Counter:
    """How many letters of each script the texts hold."""
    counts: Counter = Counter()
    for text in [texts] if isinstance(texts, str) else texts:
        counts.update(s for s in map(script_of, text) if s)
    return counts


def main_scripts(counts: Counter, share: float = 0.02) -> list[str]:
    """The scripts that make up at least ``share`` of the letters, most used first."""
    total = sum(counts.values()) or 1
    return [script for script, n in counts.most_common() if n / total >= share]


def check_question(question: object, faq_scripts: list[str] | None = None,
                   max_chars: int = MAX_QUESTION_CHARS) -> str:
    """The question, stripped; InputError when it is empty, too long, or in a script the FAQ does not use."""
    if not isinstance(question, str):
        raise InputError(f"The question must be a string, got {type(question).__name__}", "pass the question's text")
    text = question.strip()
    if not text:
        raise InputError("The question is empty", "ask a question with at least one word")
    if len(text) > max_chars:
        raise InputError(f"The question is {len(text):,} characters long; at most {max_chars:,} are accepted",
                         "ask a shorter question (a sentence or two)")
    counts = script_counts(text)
    if not counts:
        raise InputError("The question has no letters", "ask a question in words")
    if faq_scripts:
        main = counts.most_common(1)[0][0]
        if main not in faq_scripts:
            raise InputError(f"The question is written in {main} script, but this FAQ is in "
                             f"{' and '.join(faq_scripts)} script",
                             f"ask in the FAQ's language ({' / '.join(faq_scripts)} script)")
    return text
