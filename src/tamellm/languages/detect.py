"""Which language a batch of texts is written in, to pick a model that covers it.

Two steps, because each tool is good at one of them:
1. the Unicode script of the letters (from ``unicodedata``, no data file) settles every
   language whose script is its own: Han -> ``zh``, kana -> ``ja``, Hangul -> ``ko``,
   Cyrillic -> ``ru``, Arabic, Greek, Hebrew, Thai, Devanagari ... This is exact on a
   two-character review, where character n-gram detectors guess (langdetect reads
   "这个手机很好 great" as Norwegian).
2. text in Latin script goes to ``langdetect`` (Google's language-detection profiles,
   55 languages bundled in the package, Apache-2.0; seeded, so the answer is stable).
   Under ``MIN_LATIN_LETTERS`` letters there is too little to tell ("ok" reads as
   Slovak), and the answer is None: callers then keep their plain default.

A batch gets one answer: the language of most of its letters, from a sample of texts.
"""

from __future__ import annotations

import threading
import unicodedata
from collections import Counter

SAMPLE_TEXTS = 64  # enough to know a batch's language; detecting every text of a large file costs seconds
MAX_SAMPLE_CHARS = 4000
MIN_LATIN_LETTERS = 12

# The first word of a letter's Unicode name -> its script; a few scripts need a rename.
_SCRIPT_ALIASES = {"CJK": "Han", "HIRAGANA": "Kana", "KATAKANA": "Kana", "HALFWIDTH": "Kana"}
# A script that belongs to one main language -> its ISO 639-1 code.
SCRIPT_LANGUAGES = {
    "Han": "zh", "Kana": "ja", "Hangul": "ko", "Cyrillic": "ru", "Arabic": "ar", "Greek": "el", "Hebrew": "he",
    "Thai": "th", "Devanagari": "hi", "Bengali": "bn", "Tamil": "ta", "Georgian": "ka", "Armenian": "hy",
}
KANA_SHARE_FOR_JAPANESE = 0.1  # Japanese mixes kanji (Han) with kana; Chinese has none
_LOCK = threading.Lock()


def script_of(char: str) -> str | None:
    """The script of a letter ('Latin', 'Han', 'Cyrillic', ...); None for anything but a letter."""
    if not unicodedata.category(char).startswith("L"):
        return None
    name = unicodedata.name(char, "")
    if not name:
        return None
    first = name.split()[0]
    return _SCRIPT_ALIASES.get(first, first.title())


def script_counts(texts: str | list[str]) -> Counter:
    """How many letters of each script the texts hold."""
    counts: Counter = Counter()
    for text in [texts] if isinstance(texts, str) else texts:
        counts.update(s for s in map(script_of, text) if s)
    return counts


def _latin_language(text: str) -> str | None:
    from langdetect import DetectorFactory, LangDetectException, detect_langs

    with _LOCK:  # the factory's seed is global state
        DetectorFactory.seed = 0
        try:
            found = detect_langs(text)
        except LangDetectException:
            return None
    return found[0].lang.split("-")[0] if found else None


def detect_language(texts: str | list[str], latin: bool = True) -> str | None:
    """The ISO 639-1 code of the language most of ``texts`` is written in, or None when it cannot be told.

    ``latin=False`` answers from the script alone (None for Latin-script text), without langdetect.
    """
    batch = [texts] if isinstance(texts, str) else [t for t in texts if isinstance(t, str)]
    sample = batch[:: max(1, len(batch) // SAMPLE_TEXTS)][:SAMPLE_TEXTS]
    joined = "\n".join(sample)[:MAX_SAMPLE_CHARS]
    counts = script_counts(joined)
    if not counts:
        return None
    kana, han = counts["Kana"], counts["Han"]
    if kana and kana >= KANA_SHARE_FOR_JAPANESE * (kana + han):
        counts["Kana"] += counts.pop("Han", 0)  # kanji + kana: Japanese
    script, letters = counts.most_common(1)[0]
    if script in SCRIPT_LANGUAGES:
        return SCRIPT_LANGUAGES[script]
    if script != "Latin" or letters < MIN_LATIN_LETTERS or not latin:
        return None
    return _latin_language(joined)
