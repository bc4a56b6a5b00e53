"""Errors that tamellm shows to users.

Every error carries a one-line message that names what is wrong and, where it helps,
a hint that says what would be accepted. The CLI prints ``message`` (and ``hint``)
and exits non-zero; ``--debug`` shows the traceback.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class TamellmError(Exception):
    """Base class for every error meant for the user."""

    exit_code = 1

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class InputError(TamellmError):
    """A bad argument: empty text, a label list with one label, a wrong type."""

    exit_code = 2


class CompressionError(InputError):
    """A model/method pair that cannot work (names the model, the method and why)."""


class DataError(TamellmError):
    """A data file that cannot be read or does not have what is needed."""

    exit_code = 2


class ConfigError(TamellmError):
    """A configuration key or value that is not accepted."""

    exit_code = 2


class ModelNotFoundError(TamellmError):
    """A model name or folder that cannot be found locally."""

    exit_code = 3


class ModelFormatError(TamellmError):
    """A model folder that is corrupt, incomplete or holds only unsafe (pickle) weights."""

    exit_code = 3


class MissingExtraError(TamellmError):
    """An optional dependency that a feature needs is not installed."""

    exit_code = 3


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """Return ' Did you mean X?' for the nearest choice, or '' when none is close."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" Did you mean '{close[0]}'?" if close else ""
