"""The recommender folder on disk: ``recommender.json`` (manifest, weights, report), ``items.jsonl``,
``arrays.npz`` (no pickles) and, when trained, ``ranker/`` (a tamellm model folder).

A build writes everything into a staging folder beside the target and renames it into
place, so a reader never sees half a recommender and a failed build leaves nothing behind.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
from scipy import sparse

from tamellm.apps.recommend.dataset import Catalog, Events
from tamellm.apps.recommend.model import RecModel
from tamellm.errors import DataError, InputError

MANIFEST = "recommender.json"
FORMAT = "tamellm-recommender"
VERSION = 1
HINT = "build one with `tamellm recommend build --interactions FILE --items FILE --output DIR`"


def is_recommender(folder: str | os.PathLike) -> bool:
    """Whether ``folder`` holds a recommender."""
    return (Path(folder) / MANIFEST).is_file()


def check_target(folder: str | os.PathLike) -> Path:
    """``folder`` as a Path when a recommender may be written there: new, empty, or a recommender already."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise InputError(f"{folder} is a file, not a folder", "choose a folder for the recommender")
    if folder.is_dir() and not is_recommender(folder) and any(folder.iterdir()):
        raise InputError(f"{folder} already exists and is not a recommender", "choose a new or empty folder")
    return folder


def save(model: RecModel, folder: str | os.PathLike, ranker_dir: Path | None = None) -> Path:
    """Write ``model`` (and the ranker folder, moved in) to ``folder``, replacing a recommender there."""
    folder = check_target(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.staging-", dir=folder.parent))
    try:
        with open(staging / "items.jsonl", "w", encoding="utf-8") as out:
            for item, title, text in zip(model.catalog.ids, model.catalog.titles, model.catalog.texts, strict=True):
                out.write(json.dumps({"item": item, "title": title, "text": text}, ensure_ascii=False) + "\n")
        ev = model.events
        nb = model.neighbours.tocsr()
        np.savez(staging / "arrays.npz", **model.arrays, ev_users=ev.user_rows, ev_items=ev.item_cols,
                 ev_weights=ev.weights, ev_times=ev.times, nb_data=nb.data, nb_indices=nb.indices, nb_indptr=nb.indptr)
        manifest = {"format": FORMAT, "version": VERSION, "encoder": model.encoder, "weights": model.weights,
                    "users": ev.users, "meta": model.meta}
        (staging / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
        if ranker_dir is not None:
            shutil.move(str(ranker_dir), staging / "ranker")
        old = None
        if folder.exists():
            old = folder.with_name(f".{folder.name}.old-{os.getpid()}")
            os.replace(folder, old)
        os.replace(staging, folder)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return folder


def load(folder: str | os.PathLike) -> tuple[RecModel, Path | None]:
    """The model in ``folder`` and its ranker folder (None without one)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"Recommender folder {folder} not found", HINT)
    if not is_recommender(folder):
        raise InputError(f"{folder} is not a recommender (no {MANIFEST})", HINT)
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        if manifest.get("format") != FORMAT:
            raise ValueError(f"format is {manifest.get('format')!r}")
        with open(folder / "items.jsonl", encoding="utf-8") as handle:
            rows = [json.loads(line) for line in handle if line.strip()]
        with np.load(folder / "arrays.npz", allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
    except (OSError, ValueError, KeyError, json.JSONDecodeError) as exc:
        raise DataError(f"The recommender in {folder} is damaged ({exc})", "build it again") from None
    catalog = Catalog([r["item"] for r in rows], [r["title"] for r in rows], [r["text"] for r in rows])
    events = Events(manifest["users"], arrays.pop("ev_users"), arrays.pop("ev_items"), arrays.pop("ev_weights"),
                    arrays.pop("ev_times"))
    n = len(catalog)
    neighbours = sparse.csr_matrix((arrays.pop("nb_data"), arrays.pop("nb_indices"), arrays.pop("nb_indptr")),
                                   shape=(n, n))
    model = RecModel(catalog, events, arrays, manifest["weights"], manifest["encoder"], neighbours,
                     manifest.get("meta", {}))
    ranker = folder / "ranker"
    return model, ranker if ranker.is_dir() else None
