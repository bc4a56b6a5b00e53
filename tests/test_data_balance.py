"""Class weights, oversampling, max-length choice and label maps."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from tamellm.data import LabelMap, choose_max_length, class_weights, oversample
from tamellm.errors import DataError, InputError


def test_class_weights_are_sklearn_balanced():
    weights = class_weights(["a"] * 6 + ["b"] * 2 + ["c"] * 4)
    assert list(weights) == ["a", "b", "c"]
    assert weights == pytest.approx({"a": 12 / (3 * 6), "b": 12 / (3 * 2), "c": 12 / (3 * 4)})
    ints = class_weights(pd.Series([1, 0, 1, 1], dtype="int64"))
    assert list(ints) == [0, 1] and all(type(k) is int for k in ints)
    assert ints[0] == pytest.approx(2.0)
    assert json.dumps(class_weights(np.array([0, 1, 1])))  # plain Python keys and values


def test_class_weights_multi_label_and_missing():
    weights = class_weights([["x", "y"], ["y"], None, float("nan"), ["y"]])
    assert weights == pytest.approx({"x": 4 / (2 * 1), "y": 4 / (2 * 3)})
    with pytest.raises(DataError, match="no labels"):
        class_weights([None])


def test_oversample_balances_deterministically():
    df = pd.DataFrame({"text": [f"t{i}" for i in range(30)], "label": ["a"] * 20 + ["b"] * 6 + ["c"] * 4})
    out = oversample(df, "label", seed=0)
    assert out["label"].value_counts().to_dict() == {"a": 20, "b": 20, "c": 20}
    assert out.iloc[:30].equals(df)  # the original rows come first, unchanged
    assert set(out.index[30:]) <= set(range(20, 30))  # copies keep the index of the row they repeat
    assert out["text"].iloc[30:].tolist() == [f"t{i}" for i in out.index[30:]]
    assert out.index.tolist() == oversample(df, "label", seed=0).index.tolist()
    assert out.index.tolist() != oversample(df, "label", seed=1).index.tolist()


def test_oversample_errors():
    with pytest.raises(DataError, match="label column 'y' not found"):
        oversample(pd.DataFrame({"label": [1]}), "y")
    with pytest.raises(DataError, match="holds lists"):
        oversample(pd.DataFrame({"label": [["a"], ["b"]]}), "label")


def test_choose_max_length():
    lengths = list(range(1, 101))  # the 95th percentile, rounded up to a length that occurs, is 96
    assert choose_max_length(lengths) == 96
    assert choose_max_length(lengths, percentile=100) == 104
    assert choose_max_length(lengths, cap=64) == 64
    assert choose_max_length(lengths, multiple_of=1) == 96
    assert choose_max_length(lengths, percentile=50, multiple_of=1) == 51
    assert choose_max_length([3, 4, 5]) == 8  # at least one multiple
    assert choose_max_length([700] * 10) == 512
    assert choose_max_length(np.array([10, 20])) == 24


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"token_lengths": []}, DataError),
        ({"token_lengths": [1, -2]}, InputError),
        ({"token_lengths": [1], "percentile": 0}, InputError),
        ({"token_lengths": [1], "cap": 0}, InputError),
        ({"token_lengths": [1], "multiple_of": 0}, InputError),
    ],
)
def test_choose_max_length_bad_input(kwargs, error):
    with pytest.raises(error):
        choose_max_length(**kwargs)


def test_label_map_sorted_stable_and_round_trips():
    a = LabelMap.from_labels(["neutral", "positive", "negative", "neutral", None, ""])
    b = LabelMap.from_labels(["positive", "negative", "neutral"])
    assert a == b and a.labels == ("negative", "neutral", "positive")
    assert a.label2id == {"negative": 0, "neutral": 1, "positive": 2}
    assert a.id2label[2] == "positive" and a.encode("neutral") == 1 and a.decode(0) == "negative"
    assert a.encode_many(["positive", "negative"]) == [2, 0]
    data = json.loads(json.dumps(a.to_dict()))
    assert data["id2label"] == {"0": "negative", "1": "neutral", "2": "positive"}
    assert LabelMap.from_dict(data) == a and LabelMap.from_dict({"labels": list(a.labels)}) == a
    assert "neutral" in a and "meh" not in a and len(a) == 3


def test_label_map_keeps_int_labels():
    m = LabelMap.from_labels(pd.Series([1, 0, 1, 10]))
    assert m.labels == (0, 1, 10) and m.names == ["0", "1", "10"]
    assert LabelMap.from_dict(json.loads(json.dumps(m.to_dict()))).labels == (0, 1, 10)
    assert m.encode(np.int64(1)) == 1
    with pytest.raises(DataError) as err:
        m.encode("1")
    assert "int values" in err.value.hint and "use 1" in err.value.hint


def test_label_map_multi_label():
    m = LabelMap.from_labels([["sports", "tech"], ["tech"], []])
    assert m.labels == ("sports", "tech")
    assert m.multi_hot(["tech"]) == [0.0, 1.0]


def test_label_map_unknown_label_suggests():
    m = LabelMap.from_labels(["positive", "negative"])
    with pytest.raises(DataError) as err:
        m.encode("postive")
    assert err.value.message == "unknown label 'postive' (not among the 2 training labels)"
    assert "'negative', 'positive'" in err.value.hint and "Did you mean 'positive'?" in err.value.hint
    with pytest.raises(InputError, match="out of range"):
        m.decode(5)


def test_label_map_bad_inputs():
    with pytest.raises(DataError, match="no labels"):
        LabelMap.from_labels([None])
    with pytest.raises(InputError, match="appears twice"):
        LabelMap(["a", "a"])
    with pytest.raises(DataError, match="ids must be 0..1"):
        LabelMap.from_dict({"id2label": {"0": "a", "2": "b"}})
    with pytest.raises(DataError, match="'id2label'"):
        LabelMap.from_dict({"names": []})
