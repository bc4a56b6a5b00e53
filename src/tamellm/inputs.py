"""Checking the texts and labels that users hand to the API."""

from __future__ import annotations

from collections.abc import Iterable

from tamellm.errors import InputError


def as_text_list(texts: str | Iterable[str], what: str = "text") -> tuple[list[str], bool]:
    """Return (list of texts, whether a single string was given); reject empty input."""
    single = isinstance(texts, str)
    if not single and (texts is None or isinstance(texts, bytes | dict) or not isinstance(texts, Iterable)):
        raise InputError(f"Expected a {what} or a list of them, got {type(texts).__name__}",
                         "pass a non-empty string or a list of strings")
    items = [texts] if single else list(texts)
    if not items:
        raise InputError(f"No {what} given", "pass a non-empty string or a list of strings")
    for i, item in enumerate(items):
        if not isinstance(item, str):
            raise InputError(f"{what} #{i + 1} is a {type(item).__name__}, not a string", "pass strings")
        if not item.strip():
            where = "" if single else f" #{i + 1}"
            raise InputError(f"Empty {what}{where}", f"every {what} needs at least one non-space character")
    return items, single


def as_label_list(labels: str | Iterable[str] | dict[str, str] | None) -> dict[str, str]:
    """Return {label: description} from a list, a comma-separated string or a dict."""
    if labels is None:
        raise InputError("No labels given", "pass at least two labels, e.g. labels=['positive', 'negative']")
    if isinstance(labels, str):
        labels = [part.strip() for part in labels.split(",")]
    mapping = dict(labels) if isinstance(labels, dict) else {str(x).strip(): str(x).strip() for x in labels}
    mapping = {k: (v or k) for k, v in mapping.items() if k}
    if len(mapping) < 2:
        raise InputError(
            f"Zero-shot classification needs at least two distinct labels, got {list(mapping) or 'none'}",
            "pass two or more, e.g. labels=['sports', 'politics']",
        )
    return mapping
