"""NER data: CoNLL column files and JSONL with character spans, both as tokens + IOB2 tags.

Every reader returns ``list[dict(tokens=list[str], tags=list[str])]``, one dict per
sentence (CoNLL) or record (JSONL).
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tamellm.data.files import check_file, read_text
from tamellm.data.jsonio import Record, parse_json, parse_jsonl
from tamellm.errors import DataError, did_you_mean
from tamellm.registry import Registry

logger = logging.getLogger(__name__)

Sentence = dict[str, list[str]]
NerReader = Callable[[Path, "str | None"], list[Sentence]]
NER_READERS: Registry[NerReader] = Registry("ner_readers", "NER file format")
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"  # kana and CJK ideographs: one token each
_TOKEN = re.compile(rf"[{_CJK}]|[^\W{_CJK}]+|[^\w\s]")


def register_ner_reader(*suffixes: str) -> Callable[[NerReader], NerReader]:
    """Decorator: register an NER reader for file suffixes."""

    def add(fn: NerReader) -> NerReader:
        for suffix in suffixes:
            NER_READERS.register(suffix.lower(), fn)
        return fn

    return add


def ner_suffixes() -> list[str]:
    """The suffixes :func:`read_ner` accepts, sorted."""
    return sorted(NER_READERS)


def tokenize(text: str) -> list[tuple[str, int, int]]:
    """Split on white space and punctuation: runs of word characters, and each other symbol alone.

    Chinese and Japanese characters, written without spaces, are one token each.

    Returns ``(token, start, end)`` with character offsets into ``text``.
    """
    return [(m.group(), m.start(), m.end()) for m in _TOKEN.finditer(text)]


def read_ner(path: str | os.PathLike[str], *, encoding: str | None = None) -> list[Sentence]:
    """Read NER data, choosing the reader by suffix: CoNLL columns (.conll, .txt, ...) or JSONL/JSON.

    JSON records hold either ``text`` + ``entities`` (character spans, converted to
    IOB2 with :func:`tokenize`) or ``tokens`` + ``tags`` (or ``ner_tags``).
    """
    suffix = Path(path).suffix.lower()
    if suffix not in NER_READERS:
        what = f"suffix {suffix!r}" if suffix else "no suffix"
        raise DataError(
            f"cannot read NER data from {path}: {what} is not a known NER format",
            f"accepted suffixes: {', '.join(ner_suffixes())}.{did_you_mean(suffix, ner_suffixes())}",
        )
    p = check_file(path)
    sentences = NER_READERS[suffix](p, encoding)
    n_tokens = sum(len(s["tokens"]) for s in sentences)
    logger.info("read %s: %d sentences, %d tokens", p, len(sentences), n_tokens)
    return sentences


@register_ner_reader(".conll", ".conllu", ".txt", ".iob", ".iob2", ".bio")
def read_conll(path: str | os.PathLike[str], encoding: str | None = None) -> list[Sentence]:
    """Read a CoNLL column file: token in the first column, NER tag in the last.

    Columns are separated by spaces or tabs; a blank line ends a sentence;
    ``-DOCSTART-`` lines are skipped. A line with a single column raises DataError
    naming the file and line.
    """
    text = read_text(path, encoding)
    sentences: list[Sentence] = []
    tokens: list[str] = []
    tags: list[str] = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        parts = line.split()
        if not parts or parts[0] == "-DOCSTART-":
            if tokens:
                sentences.append({"tokens": tokens, "tags": tags})
                tokens, tags = [], []
            continue
        if len(parts) < 2:
            raise DataError(
                f"{path} line {lineno}: expected a token and a tag separated by spaces or tabs, "
                f"found {line.strip()!r}",
                "write one token per line with its NER tag in the last column, e.g. 'London B-LOC'",
            )
        tokens.append(parts[0])
        tags.append(parts[-1])
    if tokens:
        sentences.append({"tokens": tokens, "tags": tags})
    if not sentences:
        raise DataError(
            f"{path} holds no sentences", "write one token and tag per line, a blank line between sentences"
        )
    return sentences


def spans_to_iob2(text: str, entities: list[Any], where: str = "the record") -> Sentence:
    """Tokenize ``text`` and tag the tokens covered by character-span ``entities`` with IOB2 tags.

    Each entity is ``{"start", "end", "label"}`` (or ``[start, end, label]``), ``end``
    exclusive. Spans out of range, empty, or overlapping another raise DataError; a
    span that cuts through a token tags the whole token (logged).
    """
    spans = sorted((_span(e, len(text), where) for e in entities), key=lambda s: s[0])
    for (s1, e1, l1), (s2, e2, l2) in zip(spans, spans[1:], strict=False):
        if s2 < e1:
            raise DataError(
                f"{where}: entities {l1!r} [{s1}, {e1}) and {l2!r} [{s2}, {e2}) overlap",
                "IOB2 tags one entity per token: remove or merge overlapping entities",
            )
    toks = tokenize(text)
    tags = ["O"] * len(toks)
    for start, end, label in spans:
        covered = [i for i, (_, ts, te) in enumerate(toks) if ts < end and te > start]
        if not covered:
            logger.warning("%s: entity %r [%d, %d) covers no token; skipped", where, label, start, end)
            continue
        if toks[covered[0]][1] != start or toks[covered[-1]][2] != end:
            logger.info(
                "%s: entity %r [%d, %d) does not start/end on a token boundary", where, label, start, end
            )
        for k, i in enumerate(covered):
            if tags[i] != "O":
                logger.warning("%s: a token is shared by two entities; kept the first", where)
                continue
            tags[i] = ("B-" if k == 0 else "I-") + label
    return {"tokens": [t for t, _, _ in toks], "tags": tags}


def _span(entity: Any, n: int, where: str) -> tuple[int, int, str]:
    if isinstance(entity, dict):
        start, end, label = entity.get("start"), entity.get("end"), entity.get("label")
    elif isinstance(entity, list | tuple) and len(entity) == 3:
        start, end, label = entity
    else:
        raise DataError(
            f"{where}: entity {entity!r} is not {{'start', 'end', 'label'}} or [start, end, label]",
            'write entities as {"start": 0, "end": 5, "label": "PER"}',
        )
    if not isinstance(start, int) or not isinstance(end, int) or not 0 <= start < end <= n:
        raise DataError(
            f"{where}: entity span [{start!r}, {end!r}) is not inside the text (length {n})",
            "start and end are character offsets, end exclusive, 0 <= start < end <= len(text)",
        )
    if not isinstance(label, str) or not label.strip():
        raise DataError(
            f"{where}: entity [{start}, {end}) has no label", 'give each entity a "label", e.g. "PER"'
        )
    return start, end, label.strip()


def _from_records(records: list[Record], path: Path) -> list[Sentence]:
    out: list[Sentence] = []
    for lineno, obj in records:
        where = f"{path} line {lineno}"
        if "tokens" in obj:
            tags = obj.get("tags", obj.get("ner_tags"))
            tokens = obj["tokens"]
            if not isinstance(tags, list) or not isinstance(tokens, list) or len(tags) != len(tokens):
                raise DataError(
                    f"{where}: 'tokens' needs a 'tags' list of the same length",
                    'e.g. {"tokens": ["Paris", "is", "big"], "tags": ["B-LOC", "O", "O"]}',
                )
            if not all(isinstance(t, str) for t in tags):
                raise DataError(
                    f"{where}: tags must be strings such as 'B-PER', found {tags[:3]!r}",
                    "write the tag names, not their ids",
                )
            out.append({"tokens": [str(t) for t in tokens], "tags": list(tags)})
        elif isinstance(obj.get("text"), str):
            entities = obj.get("entities", obj.get("spans", []))
            if not isinstance(entities, list):
                raise DataError(
                    f"{where}: 'entities' must be a list", 'e.g. [{"start": 0, "end": 5, "label": "PER"}]'
                )
            out.append(spans_to_iob2(obj["text"], entities, where))
        else:
            raise DataError(
                f"{where}: expected 'text' + 'entities' or 'tokens' + 'tags', found keys "
                f"{', '.join(map(repr, obj)) or 'none'}",
                '{"text": "Ada lives in Paris", "entities": [{"start": 0, "end": 3, "label": "PER"}]}',
            )
    return out


@register_ner_reader(".jsonl", ".ndjson")
def _read_ner_jsonl(path: Path, encoding: str | None) -> list[Sentence]:
    return _from_records(parse_jsonl(read_text(path, encoding), path), path)


@register_ner_reader(".json")
def _read_ner_json(path: Path, encoding: str | None) -> list[Sentence]:
    return _from_records(parse_json(read_text(path, encoding), path), path)
