"""Words of a text for people and for lexical search: jieba segments Chinese, a regex the rest.

Chinese is written without spaces, so a "word" needs a segmenter: ``jieba`` (MIT, its
dictionary ships in the package, nothing downloaded). Explanations group sub-word
attributions by these words (a reader sees 难吃 "tastes bad", not 难 and 吃 apart), and
BM25 indexes them (the default bm25s pattern would read a whole Chinese clause as one
token and never match a question worded differently).
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable
from typing import Any

from tamellm.languages.detect import script_of

_WORD = re.compile(r"\w+(?:['’]\w+)*", re.UNICODE)
_LOCK = threading.Lock()
_JIEBA: Any = None
CHINESE_SHARE = 0.3  # share of Han letters from which a text is segmented as Chinese

# Function words that carry no topic: BM25 would otherwise reward a match on 的 or 吗. bm25s has
# stopword lists for European languages only, and jieba ships none for Chinese, hence this short list.
CHINESE_STOPWORDS = frozenset(
    "的 了 是 在 我 你 他 她 它 们 我们 你们 他们 这 那 这个 那个 吗 呢 吧 啊 呀 哦 和 与 及 或 就 都 也 还 "
    "又 很 太 被 把 给 对 从 向 让 要 会 能 可以 有 没 没有 不 一个 一下 什么 怎么 怎样 如何 为什么 哪 哪里 "
    "请问 请 吗？ 之 其 而 但 但是 所以 因为 如果 的话 着 过 地 得 等".split()
)
BM25_WORD_PATTERN = r"(?u)\b\w+\b"  # one-character Chinese words (卡 card, 钱 money) are words too


def _jieba():
    global _JIEBA
    with _LOCK:
        if _JIEBA is None:
            import jieba

            jieba.setLogLevel(logging.WARNING)  # it logs its dictionary loading at INFO on first use
            jieba.initialize()
            _JIEBA = jieba
    return _JIEBA


def is_chinese(text: str) -> bool:
    """Whether at least ``CHINESE_SHARE`` of the letters of ``text`` are Han characters."""
    scripts = [s for s in map(script_of, text) if s]
    return bool(scripts) and scripts.count("Han") / len(scripts) >= CHINESE_SHARE


def word_spans(text: str) -> list[tuple[str, int, int]]:
    """The words of ``text`` as (word, start, end) character spans, in order; punctuation and spaces are not words.

    Chinese (and mixed) text is segmented by jieba; other text by a Unicode word pattern
    (letters, digits and inner apostrophes).
    """
    if any(script_of(c) == "Han" for c in text):
        spans = [(w, s, e) for w, s, e in _jieba().tokenize(text) if _WORD.search(w)]
        return spans
    return [(m.group(), m.start(), m.end()) for m in _WORD.finditer(text)]


def segment(text: str) -> str:
    """``text`` with its Chinese words separated by spaces (other text unchanged)."""
    return " ".join(_jieba().cut_for_search(text)) if any(script_of(c) == "Han" for c in text) else text


def lexical_tokens(texts: list[str], stemmer: Callable | None = None, return_ids: bool = True, **options: Any):
    """``bm25s.tokenize`` of ``texts``, made Chinese-aware: the BM25 tokens the FAQ app indexes and queries.

    A batch that holds Chinese is segmented by jieba in search mode (银行卡 gives 银行 and
    银行卡, so "卡" questions still meet "银行卡" entries), one-character words are kept and
    Chinese function words dropped; any other batch is tokenized exactly as bm25s does by
    default with English stopwords. Queries and documents go through the same rule, so
    their tokens meet.
    """
    import bm25s

    logging.getLogger("bm25s").setLevel(logging.WARNING)
    options = {"return_ids": return_ids, "show_progress": False, "stemmer": stemmer, **options}
    if not any(script_of(c) == "Han" for text in texts for c in text):
        return bm25s.tokenize(texts, stopwords="en", **options)
    stopwords = sorted(CHINESE_STOPWORDS | set(bm25s.stopwords.STOPWORDS_EN))
    return bm25s.tokenize([segment(t) for t in texts], stopwords=stopwords, token_pattern=BM25_WORD_PATTERN,
                          **options)
