"""Splits: stratified, seeded, with a logged fallback, and load_splits that only cuts what is missing."""

from __future__ import annotations

import logging

import pandas as pd
import pytest

from tamellm.data import Splits, load_splits, read_table, split, validate
from tamellm.errors import DataError, InputError


def labelled(n_pos=160, n_neg=40):
    labels = ["pos"] * n_pos + ["neg"] * n_neg
    return pd.DataFrame({"text": [f"text {i}" for i in range(len(labels))], "label": labels})


def test_stratified_proportions_and_sizes():
    s = split(labelled(), "label", val_size=0.1, test_size=0.2, seed=0)
    assert s.sizes() == {"train": 140, "validation": 20, "test": 40}
    for part in (s.train, s.validation, s.test):
        assert (part["label"] == "neg").mean() == pytest.approx(0.2)
    all_rows = pd.concat([s.train, s.validation, s.test])
    assert sorted(all_rows.index) == list(range(200))  # disjoint and complete
    assert list(s.train.index) == sorted(s.train.index)  # file order kept
    assert "stratified on 'label', seed 0" in s.notes[0]


def test_deterministic_for_a_seed():
    df = labelled()
    a, b = split(df, "label", seed=3), split(df, "label", seed=3)
    assert a.test.index.tolist() == b.test.index.tolist()
    assert a.validation.index.tolist() == b.validation.index.tolist()
    assert split(df, "label", seed=4).test.index.tolist() != a.test.index.tolist()


def test_falls_back_to_random_with_a_logged_reason(caplog):
    df = labelled(18, 1)
    with caplog.at_level(logging.WARNING, logger="tamellm.data.splits"):
        s = split(df, "label", val_size=0.2, test_size=0.2, seed=0)
    assert "could not stratify on 'label' (class 'neg' has only 1 example)" in caplog.text
    assert "at random" in s.notes[0] and "class 'neg' has only 1 example" in s.notes[0]
    assert sum(s.sizes().values()) == 19


def test_falls_back_when_a_part_cannot_hold_every_class(caplog):
    df = pd.DataFrame({"text": list("abcdefghij"), "label": list("aabbccddee")})
    with caplog.at_level(logging.WARNING):
        s = split(df, "label", val_size=0.1, test_size=0.1)
    assert "cannot hold all 5 classes" in caplog.text
    assert s.sizes() == {"train": 8, "validation": 1, "test": 1}


def test_zero_sizes_give_no_part_and_no_label_splits_at_random():
    s = split(labelled(), None, val_size=0.25, test_size=0)
    assert s.test is None and s.sizes() == {"train": 150, "validation": 50}
    assert [name for name, _ in s.items()] == ["train", "validation"]


@pytest.mark.parametrize(("val", "test"), [(-0.1, 0.1), (1.0, 0.0), (0.6, 0.5), ("0.1", 0.1), (True, 0.1)])
def test_bad_sizes(val, test):
    with pytest.raises(InputError):
        split(labelled(), "label", val_size=val, test_size=test)


def test_too_few_rows():
    with pytest.raises(DataError, match="cannot split 2 rows"):
        split(labelled(1, 1), "label")


def test_missing_label_column_is_named():
    with pytest.raises(DataError, match="label column 'lbl' not found"):
        split(labelled(), "lbl")


def write_csv(path, rows, header="review,label"):
    path.write_text(header + "\n" + "\n".join(rows) + "\n")
    return path


def rows(n, prefix="review"):
    return [f"{prefix} {i} is long enough to be text,{'a' if i % 3 else 'b'}" for i in range(n)]


def test_load_splits_train_only_cuts_both(tmp_path):
    s = load_splits(write_csv(tmp_path / "all.csv", rows(59) + [",b"]), seed=1)
    assert isinstance(s, Splits) and s.sizes() == {"train": 48, "validation": 6, "test": 6}
    assert s.columns.text == "review" and s.columns.label == "label"
    assert "validation: cut from" in "\n".join(s.notes) and "test: cut from" in "\n".join(s.notes)
    # wherever the empty text landed, the report points at its row in the file (header = row 1)
    (issue,) = validate(s).by_code("empty_text")
    assert issue.rows == [61] and "(all.csv)" in issue.message


def test_load_splits_cuts_only_the_missing_part(tmp_path):
    train = write_csv(tmp_path / "train.csv", rows(50))
    dev = write_csv(tmp_path / "dev.csv", rows(5, "dev"))
    s = load_splits(train, dev, test_size=0.2)
    assert s.sizes() == {"train": 40, "validation": 5, "test": 10}
    assert s.validation["review"].iloc[0].startswith("dev 0")
    test = write_csv(tmp_path / "test.csv", rows(7, "test"))
    s = load_splits(train, dev, test)
    assert s.sizes() == {"train": 50, "validation": 5, "test": 7}
    s = load_splits(train, test_path=test, val_size=0)
    assert s.validation is None and s.sizes() == {"train": 50, "test": 7}


def test_load_splits_checks_columns_of_other_files(tmp_path):
    train = write_csv(tmp_path / "train.csv", rows(20))
    dev = write_csv(tmp_path / "dev.csv", ["x,a"], header="reveiw,label")
    with pytest.raises(DataError) as err:
        load_splits(train, dev)
    assert "column 'review' not found in" in err.value.message and "dev.csv" in err.value.message
    assert "Did you mean 'reveiw'?" in err.value.hint


def test_load_splits_explicit_columns_and_leakage(tmp_path):
    train = write_csv(tmp_path / "t.csv", rows(30), header="body,y")
    dev = write_csv(tmp_path / "d.csv", rows(3), header="body,y")  # the same first 3 texts
    s = load_splits(train, dev, text_column="body", label_column="y", test_size=0)
    assert s.columns.reason_text.startswith("chose 'body' as text: named by you")
    (leak,) = validate(s).by_code("leakage")
    assert leak.count == 3 and leak.rows == [2, 3, 4]
    assert read_table(dev).attrs["tamellm"]["source"].endswith("d.csv")


def test_one_missing_label_does_not_block_stratification():
    df = labelled(30, 10)
    df.loc[5, "label"] = None
    s = split(df, "label", val_size=0.25, test_size=0.25, seed=0)
    assert "stratified on 'label'" in s.notes[0]
    assert sum(s.sizes().values()) == 40


def test_multi_label_lists_stratify_on_label_sets():
    df = pd.DataFrame(
        {"text": [f"t{i}" for i in range(40)], "labels": [["a", "b"], ["a"], ["b"], ["b", "a"]] * 10}
    )
    s = split(df, "labels", val_size=0.25, test_size=0.25)
    assert "stratified on 'labels'" in s.notes[0]
    assert s.test["labels"].map(len).tolist().count(2) == 5  # a+b rows (half of all) stay half
