"""The compressor registry and what every compressor shares.

A compressor turns a model folder into a new, smaller or faster model folder. Adding a
method is adding a module with a ``Compressor`` subclass decorated with
``@register_compressor("name")`` and importing it in ``compress/__init__.py``.

Every output is written to a temporary folder beside the target and renamed into place
at the end, so a failure never leaves a half-written model and the source folder is
never touched.
"""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from tamellm.errors import CompressionError, InputError  # noqa: F401 - re-exported
from tamellm.registry import Registry

log = logging.getLogger(__name__)

MANIFEST = "tamellm.json"
# Files of a transformers folder that a compressed folder keeps as they are.
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.txt",
                   "merges.txt", "vocab.json", "added_tokens.json", "sentencepiece.bpe.model", "spiece.model",
                   "chat_template.jinja")


@dataclass
class CompressContext:
    """What a compressor may use besides the source folder.

    ``texts``/``labels``: the validation set (labels as class ids of the model).
    ``train_texts``/``train_labels``: training data (distillation, importance scores).
    """

    texts: list[str]
    labels: list[int]
    train_texts: list[str] = field(default_factory=list)
    train_labels: list[int] | None = None
    seed: int = 0
    budget_s: float = 300.0
    max_length: int = 128

    def calibration_texts(self, n: int = 256) -> list[str]:
        """Texts to score weights on: training texts when given, else the validation texts."""
        return (self.train_texts or self.texts)[:n]


class Compressor:
    """One compression method. ``run`` writes the compressed model into ``out`` (an empty folder)."""

    name: ClassVar[str] = ""
    #: What the method needs from the source, checked before running (see ``check``).
    description: ClassVar[str] = ""

    def __init__(self, **params: Any) -> None:
        self.params = params

    def check(self, source: Path, manifest: dict) -> None:
        """Raise CompressionError when this method cannot work on ``source``."""

    def run(self, source: Path, out: Path, ctx: CompressContext) -> dict:
        """Write the compressed model into ``out``; return details for the report."""
        raise NotImplementedError


COMPRESSORS: Registry[type[Compressor]] = Registry("compressors", "compression method", name_attr="name")
register_compressor = COMPRESSORS.register


def get_compressor(name: str, **params: Any) -> Compressor:
    """The compressor registered as ``name``, configured with ``params``."""
    return COMPRESSORS[name](**params)


def read_manifest(folder: Path) -> dict:
    """The folder's tamellm.json (empty when absent)."""
    path = folder / MANIFEST
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def write_manifest(folder: Path, manifest: dict) -> None:
    """Write tamellm.json into ``folder``."""
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")


def copy_tokenizer(source: Path, out: Path) -> None:
    """Copy the tokenizer files of ``source`` into ``out``."""
    for name in TOKENIZER_FILES:
        if (source / name).exists():
            shutil.copy2(source / name, out / name)


@contextmanager
def staged_folder(target: Path) -> Iterator[Path]:
    """Yield a temporary folder beside ``target``; on success rename it to ``target``.

    An existing ``target`` is replaced only after the new folder is complete; on an
    error the temporary folder is removed and ``target`` is left as it was.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        yield work
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    old = None
    if target.exists():
        old = target.with_name(f".{target.name}-old")
        shutil.rmtree(old, ignore_errors=True)
        target.rename(old)
    work.rename(target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
