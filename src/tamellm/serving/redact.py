"""Redaction of personal data (e-mail addresses, phone, card and ID numbers) from text.

Hand-written regexes on purpose: the PII libraries (presidio, scrubadub) pull spaCy
models or the network; these few patterns cover what logs and inputs must not keep.
Card numbers are only redacted when they pass the Luhn check, so that order numbers
and timestamps survive.
"""

from __future__ import annotations

import re
from collections.abc import Callable

EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
# 13-19 digits, optionally grouped by spaces or dashes (card numbers).
CARD = re.compile(r"(?<![\d-])(?:\d[ -]?){12,18}\d(?![\d-])")
# IBAN: two letters, two check digits, 11-30 alphanumerics (spaces allowed in groups of 4).
IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b")
# National-ID-like numbers: US SSN (123-45-6789) and digit groups joined by dots, dashes or
# slashes with 9-20 digits in all (dates and versions have fewer and survive).
SSN = re.compile(r"\b\d{3}-\d{2}-\d{4}\b")
NATIONAL_ID = re.compile(r"\b\d{2,6}(?:[./-]\d{2,6}){2,4}\b")
# Phone numbers: an optional +country code, then 7-15 digits with separators.
PHONE = re.compile(r"(?<![\w+])(?:\+\d{1,3}[ .-]?)?(?:\(\d{1,4}\)[ .-]?)?\d{2,4}(?:[ .-]?\d{2,4}){2,4}(?!\w)")


def luhn_ok(digits: str) -> bool:
    """Whether a string of digits passes the Luhn checksum used by payment cards."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _card(match: re.Match) -> str:
    digits = re.sub(r"\D", "", match.group())
    return "[CARD]" if 13 <= len(digits) <= 19 and luhn_ok(digits) else match.group()


def _national_id(match: re.Match) -> str:
    digits = re.sub(r"\D", "", match.group())
    return "[ID]" if 9 <= len(digits) <= 20 else match.group()


DATE = re.compile(r"\d{4}([-/.])\d{1,2}\1\d{1,2}|\d{1,2}([-/.])\d{1,2}\2\d{4}")


def _phone(match: re.Match) -> str:
    if DATE.fullmatch(match.group()):
        return match.group()
    digits = re.sub(r"\D", "", match.group())
    return "[PHONE]" if 7 <= len(digits) <= 15 else match.group()


# Order matters: the most specific patterns first, so that a card is not taken for a phone.
RULES: list[tuple[re.Pattern, Callable[[re.Match], str] | str]] = [
    (EMAIL, "[EMAIL]"),
    (IBAN, "[IBAN]"),
    (CARD, _card),
    (SSN, "[ID]"),
    (NATIONAL_ID, _national_id),
    (PHONE, _phone),
]


def redact(text: str) -> str:
    """Replace e-mail addresses, IBANs, card numbers (Luhn), ID and phone numbers by placeholders."""
    for pattern, replacement in RULES:
        text = pattern.sub(replacement, text)
    return text
