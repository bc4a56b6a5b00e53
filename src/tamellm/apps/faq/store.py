"""The FAQ index on disk, written atomically.

A FAQ folder holds ``faq.json`` (which generation is current) and one folder per
generation (``g000001/``: entries, vectors, BM25 index, metadata). An update writes a
new generation beside the current one, then replaces ``faq.json`` with ``os.replace``:
a reader sees the old index or the new one, never half of one, and a crash leaves the
old one in place.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np

from tamellm.apps.faq.entries import FaqEntry
from tamellm.apps.faq.index import FaqIndex
from tamellm.apps.faq.lexical import LexicalIndex
from tamellm.errors import DataError, InputError

MANIFEST = "faq.json"
FORMAT = "tamellm-faq"
VERSION = 1
MODEL_PREFIXES = ("encoder", "reranker")  # models trained for this FAQ (--tune, --rerank), beside the generations


def is_faq_folder(folder: str | os.PathLike) -> bool:
    """Whether ``folder`` holds a FAQ index."""
    return (Path(folder) / MANIFEST).is_file()


def _write_json_atomic(path: Path, data: dict) -> None:
    handle, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(data, out, indent=2, ensure_ascii=False)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _read_manifest(folder: Path) -> dict:
    path = folder / MANIFEST
    if not folder.is_dir():
        raise InputError(f"FAQ folder {folder} not found", "build one with `tamellm faq build FAQ.csv --output DIR`")
    if not path.is_file():
        raise InputError(f"{folder} is not a FAQ index (no {MANIFEST})",
                         "build one with `tamellm faq build FAQ.csv --output DIR`")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise DataError(f"{path} cannot be read: {exc}", "build the index again") from None
    if manifest.get("format") != FORMAT or not (folder / str(manifest.get("generation", ""))).is_dir():
        raise DataError(f"{path} does not describe a tamellm FAQ index", "build the index again")
    return manifest


def check_target(folder: str | os.PathLike) -> Path:
    """``folder`` as a Path when a FAQ index may be written there: new, empty, or a FAQ index already."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise InputError(f"{folder} is a file, not a folder", "choose a folder for the FAQ index")
    if folder.is_dir() and not is_faq_folder(folder) and any(not p.name.startswith(".") and not _is_model_folder(p)
                                                             for p in folder.iterdir()):
        raise InputError(f"{folder} already exists and is not a FAQ index", "choose a new or empty folder")
    return folder


def _is_model_folder(path: Path) -> bool:
    """A model trained for a FAQ being built here (the first build writes them before the index)."""
    return path.is_dir() and path.name.split("-", 1)[0] in MODEL_PREFIXES and len(path.name.split("-", 1)) == 2


def new_model_name(prefix: str) -> str:
    """A fresh sub-folder name for a model trained for this FAQ (the current index may still use the old one)."""
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def _model_folders(meta: dict) -> set[str]:
    """The sub-folders of trained models that an index's metadata refers to."""
    return {str(meta[key]["folder"]) for key in ("tune", "rerank") if isinstance(meta.get(key), dict)
            and meta[key].get("folder")}


def save(index: FaqIndex, folder: str | os.PathLike) -> Path:
    """Write ``index`` as the new current generation of ``folder`` (created if needed); return its path."""
    folder = check_target(folder)
    folder.mkdir(parents=True, exist_ok=True)
    previous = _read_manifest(folder)["generation"] if is_faq_folder(folder) else None
    number = int(previous[1:]) + 1 if previous else 1
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=folder))
    try:
        with open(staging / "entries.jsonl", "w", encoding="utf-8") as out:
            for entry in index.entries:
                out.write(json.dumps(entry.to_dict(), ensure_ascii=False) + "\n")
        np.save(staging / "question_vectors.npy", index.question_vectors)
        index.lexical.save(staging / "bm25")
        meta = {**index.meta, "encoder": index.encoder, "entries": len(index), "saved_at": time.time()}
        (staging / "meta.json").write_text(json.dumps(meta, indent=2, ensure_ascii=False), encoding="utf-8")
        generation = f"g{number:06d}"
        os.replace(staging, folder / generation)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    _write_json_atomic(folder / MANIFEST, {"format": FORMAT, "version": VERSION, "generation": generation})
    for old in folder.glob("g[0-9]*"):  # readers that opened the old generation already hold it in memory
        if old.name != generation and old.is_dir():
            shutil.rmtree(old, ignore_errors=True)
    used = _model_folders(index.meta)
    for prefix in MODEL_PREFIXES:  # models of an earlier build (a running server loaded its own already)
        for old in folder.glob(f"{prefix}-*"):
            if old.name not in used and old.is_dir():
                shutil.rmtree(old, ignore_errors=True)
    return folder


def load(folder: str | os.PathLike) -> FaqIndex:
    """Read the current generation of the FAQ index in ``folder``."""
    folder = Path(folder)
    generation = folder / _read_manifest(folder)["generation"]
    try:
        meta = json.loads((generation / "meta.json").read_text(encoding="utf-8"))
        with open(generation / "entries.jsonl", encoding="utf-8") as handle:
            entries = [FaqEntry(**json.loads(line)) for line in handle if line.strip()]
        questions = np.load(generation / "question_vectors.npy", allow_pickle=False)
        lexical = LexicalIndex.load(generation / "bm25", len(entries))
    except (OSError, ValueError, TypeError, json.JSONDecodeError) as exc:
        raise DataError(f"The FAQ index in {folder} is damaged ({exc})", "build it again") from None
    if len(questions) != len(entries):
        raise DataError(f"The FAQ index in {folder} is damaged ({len(entries)} entries, {len(questions)} vectors)",
                        "build it again")
    encoder = meta.get("encoder", "minilm-l6")
    if isinstance(meta.get("tune"), dict):  # a tuned encoder lives in the FAQ folder, wherever that was moved
        encoder = str((folder / meta["tune"]["folder"]).resolve())
    return FaqIndex(entries, questions, lexical, encoder, meta)


def reranker_folder(folder: str | os.PathLike | None, meta: dict) -> Path | None:
    """The cross-encoder trained for this FAQ (``--rerank``), if it has one."""
    if folder is None or not isinstance(meta.get("rerank"), dict):
        return None
    return Path(folder) / meta["rerank"]["folder"]
