"""Choosing a maximum sequence length from the lengths of tokenized texts."""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable

import numpy as np

from tamellm.errors import DataError, InputError

logger = logging.getLogger(__name__)


def choose_max_length(
    token_lengths: Iterable[int],
    percentile: float = 95,
    cap: int = 512,
    multiple_of: int = 8,
) -> int:
    """The smallest multiple of ``multiple_of`` that covers ``percentile`` % of the lengths, at most ``cap``.

    ``token_lengths`` are the lengths of the tokenized texts (the caller tokenizes,
    special tokens included). The result is at least ``multiple_of`` (or ``cap``
    when that is smaller); how many texts it truncates is logged.
    """
    lengths = np.asarray(list(token_lengths), dtype=float)
    if lengths.size == 0:
        raise DataError(
            "cannot choose a max length: no token lengths given", "tokenize the training texts first"
        )
    if np.isnan(lengths).any() or (lengths < 0).any():
        raise InputError(
            "token lengths must be non-negative numbers", "pass len(tokenizer(text).input_ids) per text"
        )
    if not 0 < percentile <= 100:
        raise InputError(f"percentile must be in (0, 100], got {percentile!r}", "e.g. percentile=95")
    if cap < 1 or multiple_of < 1:
        raise InputError(
            f"cap and multiple_of must be positive, got cap={cap}, multiple_of={multiple_of}",
            "e.g. cap=512, multiple_of=8",
        )
    covered = float(np.percentile(lengths, percentile, method="higher"))
    chosen = max(multiple_of, math.ceil(covered / multiple_of) * multiple_of)
    chosen = min(chosen, cap)
    truncated = int((lengths > chosen).sum())
    logger.info(
        "max length %d: covers %.0f%% of %d texts (p%g = %d tokens, longest %d); %d would be truncated",
        chosen,
        100 * (1 - truncated / lengths.size),
        lengths.size,
        percentile,
        covered,
        lengths.max(),
        truncated,
    )
    return int(chosen)
