"""The data layer on the real shared datasets (skipped when ../shared/data is absent)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tamellm.data import LabelMap, infer_columns, read_conll, read_table, split, validate

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


def shared(relative: str) -> Path:
    path = SHARED / relative
    if not path.exists():
        pytest.skip(f"shared dataset {relative} not found under {SHARED}")
    return path


def test_sst2_dev_tsv():
    df = read_table(shared("sst2/dev.tsv"))
    assert len(df) == 872 and list(df.columns) == ["sentence", "label"]
    assert df["sentence"][0] == "it 's a charming and often affecting journey . "  # cells kept as written
    c = infer_columns(df)
    assert (c.text, c.label) == ("sentence", "label")
    assert c.reason_text.startswith("chose 'sentence' as text: longest string column (mean ")
    assert "2 classes: 0, 1 in 872 rows" in c.reason_label
    assert df["label"].value_counts().to_dict() == {1: 444, 0: 428}
    assert LabelMap.from_labels(df["label"]).labels == (0, 1)
    report = validate(df, c)
    assert report.ok and report.issues == []


def test_sst2_dev_stratified_split():
    df = read_table(shared("sst2/dev.tsv"))
    s = split(df, "label", seed=0)
    assert s.sizes() == {"train": 696, "validation": 88, "test": 88}
    for part in (s.train, s.validation, s.test):
        assert (part["label"] == 1).mean() == pytest.approx(444 / 872, abs=0.01)


def test_conll2003_valid():
    sentences = read_conll(shared("conll2003/valid.txt"))
    assert len(sentences) == 3250
    assert sum(len(s["tokens"]) for s in sentences) == 51362
    assert sentences[0]["tokens"][:3] == ["CRICKET", "-", "LEICESTERSHIRE"]
    assert sentences[0]["tags"][2] == "B-ORG"
    tags = [t for s in sentences for t in s["tags"]]
    assert sum(t.startswith("B-PER") for t in tags) == 1842
    assert LabelMap.from_labels(tags).labels[-1] == "O"


def test_banking77_test_csv():
    df = read_table(shared("banking77/test.csv"))
    assert len(df) == 3080  # quoted fields with commas parse as one row each
    c = infer_columns(df)
    assert (c.text, c.label) == ("text", "category")
    assert "77 classes" in c.reason_label
    assert set(df["category"].value_counts()) == {40}
    assert validate(df, c).infos == []  # exactly balanced


def test_financial_phrasebank_duplicates_and_imbalance():
    df = read_table(shared("financial_phrasebank/sentences_allagree.csv"))
    assert len(df) == 2264
    c = infer_columns(df)
    assert (c.text, c.label) == ("sentence", "label")
    report = validate(df, c)
    assert report.stats["classes"] == {"neutral": 1391, "positive": 570, "negative": 303}
    (dup,) = report.by_code("duplicate_text")
    assert dup.count == 5 and "sentences_allagree.csv" in dup.message
    (imbalance,) = report.infos
    assert "ratio 4.6:1" in imbalance.message and "class_weights" in imbalance.fix
