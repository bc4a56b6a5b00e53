"""The encoder a text classifier starts from when the user names none.

``config.model`` defaults to the English MiniLM; for texts in another language the run starts
from the catalog encoder that covers it (``models/catalog.default_model``), and AutoTune may
also compare the catalog's other frozen encoders for head-only (``head_base_candidates``).
A model the user names is always kept.
"""

from __future__ import annotations

import logging
from typing import Any

from tamellm.config import TamellmConfig

logger = logging.getLogger(__name__)
SAMPLE = 200  # texts read to detect the language
# Rough seconds per training text for one pass of a ~100M-parameter encoder on a 2-core laptop CPU
# (multilingual-e5-small embedded ~2,800 short tweets in ~60-270 s here, quiet to loaded).
SECONDS_PER_TEXT = 0.05
SHARE_OF_BUDGET = 1 / 3  # an extra encoder is tried only if its one embedding pass fits in this share


def chooses_base(config: TamellmConfig) -> bool:
    """True when tamellm picks the base model (the user named none)."""
    return "model" not in config.model_fields_set


def texts_language(splits: Any) -> str | None:
    """The language of a table's training texts (ISO 639-1), or None when there is no text column."""
    columns = getattr(splits, "columns", None)
    train = getattr(splits, "train", None)
    if columns is None or train is None or getattr(columns, "text", None) is None:
        return None
    sample = [t for t in train[columns.text].dropna().astype(str).head(SAMPLE).tolist() if t.strip()]
    if not sample:
        return None
    from tamellm.languages import detect_language

    return detect_language(sample)


def with_default_base(config: TamellmConfig, splits: Any) -> TamellmConfig:
    """``config`` with ``model`` set to the catalog encoder for the texts' language, unless the user set it."""
    if not chooses_base(config) or config.task != "classify":
        return config
    from tamellm.models.catalog import default_model

    language = texts_language(splits)
    name = default_model("embed", language).name
    if name == config.model:
        return config
    logger.info("texts in '%s': training starts from %s (it covers that language; --model picks another)",
                language, name)
    return config.model_copy(update={"model": name})


def head_base_candidates(config: TamellmConfig, splits: Any, budget_s: float | None) -> list[str]:
    """The frozen encoders AutoTune compares for head-only: the catalog's ``head_base`` models for the
    texts' language whose one embedding pass fits the budget; [] when the user named a model."""
    if not chooses_base(config) or config.task != "classify":
        return []
    from tamellm.models.catalog import head_bases

    names = head_bases(texts_language(splits))
    train = getattr(splits, "train", None)
    rows = 0 if train is None else len(train)
    if budget_s is not None and rows * SECONDS_PER_TEXT > budget_s * SHARE_OF_BUDGET:
        return names[:1]
    return names
