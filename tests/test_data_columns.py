"""Column inference: which column is the text, which the label, and why."""

from __future__ import annotations

import pandas as pd
import pytest

from tamellm.data import ColumnChoice, infer_columns, split_labels
from tamellm.errors import DataError

REVIEWS = [
    "the battery lasts two full days and the screen is sharp",
    "stopped working after a week, support never answered",
    "decent value for the price but the camera is mediocre",
    "arrived broken and the refund took a month",
    "best phone I have owned, fast and light",
    "the speaker crackles at any volume above half",
]


def frame(**cols):
    return pd.DataFrame(cols)


def test_usual_names_win():
    df = frame(id=range(6), review=REVIEWS, sentiment=["pos", "neg", "pos", "neg", "pos", "neg"])
    c = infer_columns(df)
    assert (c.text, c.label, c.multi_label) == ("review", "sentiment", False)
    assert c.reason_text.startswith("chose 'review' as text: longest string column (mean ")
    assert "usual" in c.reason_text
    assert (
        c.reason_label
        == "chose 'sentiment' as label: a usual name for labels (2 classes: 'neg', 'pos' in 6 rows)"
    )


def test_unnamed_columns_by_length_and_cardinality():
    df = frame(a=["x1", "x2", "x3", "x4", "x5", "x6"], b=REVIEWS, c=[1, 2, 1, 2, 1, 1], d=[5, 6, 7, 8, 9, 10])
    c = infer_columns(df)
    assert c.text == "b" and c.label == "c"
    mean = round(sum(map(len, REVIEWS)) / len(REVIEWS))
    assert c.reason_text == f"chose 'b' as text: longest string column (mean {mean} chars)"
    assert "fewest distinct values" in c.reason_label and "2 classes: 1, 2" in c.reason_label


def test_named_text_column_beats_a_longer_one_and_says_so():
    df = frame(
        Question=["how do I pay?", "where is my card?"] * 3,
        Answer=[r * 3 for r in REVIEWS],
        Class=["a", "b"] * 3,
    )
    c = infer_columns(df)
    assert c.text == "Question" and c.label == "Class"
    assert "'Answer' is longer" in c.reason_text and "text_column='Answer'" in c.reason_text


def test_explicit_names_override():
    df = frame(review=REVIEWS, title=[r[:10] for r in REVIEWS], label=[0, 1] * 3)
    c = infer_columns(df, text_column="title", label_column="label")
    assert c.text == "title" and c.reason_text.startswith("chose 'title' as text: named by you")
    assert c.reason_label.startswith("chose 'label' as label: named by you")


def test_missing_named_column_lists_columns_and_suggests():
    df = frame(sentence=REVIEWS, label=[0, 1] * 3)
    df.attrs["tamellm"] = {"source": "/data/sst.tsv"}
    with pytest.raises(DataError) as err:
        infer_columns(df, label_column="lable")
    assert err.value.message == "label column 'lable' not found in /data/sst.tsv"
    assert "available columns: 'sentence', 'label'." in err.value.hint
    assert "Did you mean 'label'?" in err.value.hint


def test_same_column_for_both_is_refused():
    with pytest.raises(DataError, match="both the text and the label"):
        infer_columns(frame(text=REVIEWS), text_column="text", label_column="text")


def test_multi_label_lists_and_joined_strings():
    lists = frame(
        text=REVIEWS, labels=[["battery"], ["support", "quality"], ["price"], ["quality"], [], ["audio"]]
    )
    c = infer_columns(lists)
    assert c.label == "labels" and c.multi_label and c.label_delimiter is None
    assert "multi-label (lists of labels), 5 classes" in c.reason_label
    joined = frame(
        text=REVIEWS, topics=["battery|screen", "support", "price|camera", "quality", "speed", "audio"]
    )
    c = infer_columns(joined)
    assert c.label == "topics" and c.multi_label and c.label_delimiter == "|"
    assert c.label_values(joined).tolist()[0] == ["battery", "screen"]
    semi = frame(text=REVIEWS, tags=["a; b", "b", "c", "a", "b; c", "a"])
    c = infer_columns(semi)
    assert c.label_delimiter == ";" and c.label_values(semi).tolist()[4] == ["b", "c"]


def test_text_with_separators_is_not_multi_label():
    texts = [r + " | " + r for r in REVIEWS]
    c = infer_columns(frame(text=texts, label=[0, 1] * 3))
    assert c.text == "text" and not c.multi_label


def test_id_and_time_columns_are_not_labels():
    df = frame(text=REVIEWS * 2, userId=[1, 2, 3] * 4, timestamp=[10, 11] * 6)
    c = infer_columns(df)
    assert c.label is None
    assert c.reason_label.startswith("no label column")


def test_require_label():
    df = frame(text=REVIEWS)
    df.attrs["tamellm"] = {"source": "notes.csv"}
    assert infer_columns(df).label is None
    with pytest.raises(DataError) as err:
        infer_columns(df, require_label=True)
    assert "no label column found in notes.csv" in err.value.message and "label_column=" in err.value.hint


def test_no_string_column():
    with pytest.raises(DataError) as err:
        infer_columns(frame(a=[1, 2], b=[0.5, 1.5]))
    assert "no column holds strings" in err.value.message and "'a' (int), 'b' (float)" in err.value.message
    assert "text_column=" in err.value.hint


def test_label_values_and_split_labels():
    df = frame(text=["a", "b"], label=["x", "y"])
    assert infer_columns(df, label_column="label").label_values(df).tolist() == ["x", "y"]
    assert split_labels(" a | b ||", "|") == ["a", "b"]
    assert split_labels(("x", None, "y"), None) == ["x", "y"]
    c = ColumnChoice("text", None, "t", "l")
    with pytest.raises(DataError, match="no label column"):
        c.label_values(df)
    assert c.to_dict()["text"] == "text"
