"""Label maps: a stable label <-> id mapping built from the training labels."""

from __future__ import annotations

import logging
from collections.abc import Hashable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from tamellm.errors import DataError, InputError, did_you_mean

logger = logging.getLogger(__name__)


def plain(value: Any) -> Any:
    """A numpy scalar as the matching Python value (``np.int64(1)`` -> ``1``); other values unchanged."""
    return value.item() if isinstance(value, np.generic) else value


def label_sort_key(value: Any) -> tuple[int, Any]:
    """Sort key for labels: numbers (and bools) in numeric order first, then strings, then anything else."""
    if isinstance(value, bool | int | float):
        return (0, value)
    if isinstance(value, str):
        return (1, value)
    return (2, str(value))


def _is_missing(value: Any) -> bool:
    if value is None or (isinstance(value, float) and value != value):
        return True
    return type(value).__name__ == "NAType" or (isinstance(value, str) and not value.strip())


class LabelMap:
    """A two-way mapping between labels and ids 0..n-1.

    Build it from the training labels with :meth:`from_labels` (sorted, so the same
    labels always give the same ids), save it with :meth:`to_dict` and load it with
    :meth:`from_dict`. Labels keep their type (``0``/``1`` stay ints).
    """

    def __init__(self, labels: Sequence[Hashable]) -> None:
        self.labels: tuple[Any, ...] = tuple(plain(x) for x in labels)
        if len(set(self.labels)) != len(self.labels):
            dup = next(x for x in self.labels if self.labels.count(x) > 1)
            raise InputError(f"label {dup!r} appears twice in the label list", "give each label once")
        self.label2id: dict[Any, int] = {x: i for i, x in enumerate(self.labels)}
        self.id2label: dict[int, Any] = dict(enumerate(self.labels))

    @classmethod
    def from_labels(cls, labels: Iterable[Any]) -> LabelMap:
        """The sorted distinct labels; lists (multi-label rows) are flattened, missing labels skipped."""
        seen: set[Any] = set()
        for value in labels:
            items = value if isinstance(value, list | tuple | np.ndarray) else [value]
            seen.update(plain(x) for x in items if not _is_missing(x))
        if not seen:
            raise DataError("cannot build a label map: there are no labels", "pass the training labels")
        return cls(sorted(seen, key=label_sort_key))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LabelMap:
        """Load :meth:`to_dict` output (``id2label``, string or int keys) or ``{"labels": [...]}``."""
        if "labels" in data:
            return cls(list(data["labels"]))
        if "id2label" not in data:
            raise DataError(
                "a label map needs an 'id2label' (or 'labels') entry",
                f"found keys: {', '.join(map(repr, data)) or 'none'}",
            )
        by_id = {int(k): v for k, v in data["id2label"].items()}
        if sorted(by_id) != list(range(len(by_id))):
            raise DataError(
                f"label ids must be 0..{len(by_id) - 1}, found {sorted(by_id)}",
                "write id2label with consecutive ids from 0",
            )
        return cls([by_id[i] for i in range(len(by_id))])

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready ``{"id2label": {"0": label}, "label2id": {"label": 0}}``, as in HF configs."""
        return {
            "id2label": {str(i): x for i, x in self.id2label.items()},
            "label2id": {str(x): i for x, i in self.label2id.items()},
        }

    @property
    def names(self) -> list[str]:
        """The labels as strings, in id order."""
        return [str(x) for x in self.labels]

    def encode(self, label: Any) -> int:
        """The id of ``label``; an unknown label raises DataError listing the known ones."""
        label = plain(label)
        try:
            return self.label2id[label]
        except (KeyError, TypeError):
            pass
        known = ", ".join(repr(x) for x in self.labels[:20]) + (" ..." if len(self) > 20 else "")
        same_text = [x for x in self.labels if str(x) == str(label)]
        if same_text:
            hint = (
                f"the known labels are {type(same_text[0]).__name__} values and {label!r} is a "
                f"{type(label).__name__}: use {same_text[0]!r}"
            )
        else:
            hint = f"known labels: {known}.{did_you_mean(str(label), self.names)}"
        raise DataError(f"unknown label {label!r} (not among the {len(self)} training labels)", hint)

    def encode_many(self, labels: Iterable[Any]) -> list[int]:
        """Ids of a sequence of labels."""
        return [self.encode(x) for x in labels]

    def multi_hot(self, labels: Iterable[Any]) -> list[float]:
        """A 0/1 vector of length ``len(self)`` with 1.0 at each of ``labels`` (for multi-label rows)."""
        vector = [0.0] * len(self)
        for x in labels:
            vector[self.encode(x)] = 1.0
        return vector

    def decode(self, index: int) -> Any:
        """The label of id ``index``."""
        try:
            return self.id2label[int(index)]
        except (KeyError, ValueError, TypeError):
            raise InputError(
                f"label id {index!r} is out of range", f"ids go from 0 to {len(self) - 1}"
            ) from None

    def __len__(self) -> int:
        return len(self.labels)

    def __contains__(self, label: object) -> bool:
        try:
            return plain(label) in self.label2id
        except TypeError:
            return False

    def __eq__(self, other: object) -> bool:
        return isinstance(other, LabelMap) and self.labels == other.labels

    def __hash__(self) -> int:
        return hash(self.labels)

    def __repr__(self) -> str:
        return f"LabelMap({list(self.labels)!r})"
