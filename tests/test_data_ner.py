"""NER readers: CoNLL column files and JSONL character spans, both as tokens + IOB2 tags."""

from __future__ import annotations

import json

import pytest

from tamellm.data import read_conll, read_ner, spans_to_iob2, tokenize
from tamellm.errors import DataError

CONLL = """-DOCSTART- -X- -X- O

EU NNP B-NP B-ORG
rejects VBZ B-VP O
German JJ B-NP B-MISC
call NN I-NP O


Peter\tNNP\tB-NP\tB-PER
Blackburn\tNNP\tI-NP\tI-PER
-DOCSTART- -X- -X- O
BRUSSELS NNP B-NP B-LOC"""


def test_read_conll_sentences_docstart_and_tabs(tmp_path):
    p = tmp_path / "train.txt"
    p.write_text(CONLL)
    sentences = read_conll(p)
    assert sentences == [
        {"tokens": ["EU", "rejects", "German", "call"], "tags": ["B-ORG", "O", "B-MISC", "O"]},
        {"tokens": ["Peter", "Blackburn"], "tags": ["B-PER", "I-PER"]},
        {"tokens": ["BRUSSELS"], "tags": ["B-LOC"]},
    ]
    assert read_ner(p) == sentences  # .txt dispatches to the CoNLL reader


def test_read_conll_two_columns_and_bad_line(tmp_path):
    p = tmp_path / "a.conll"
    p.write_text("Paris B-LOC\nis O\n\nnice\n")
    with pytest.raises(DataError) as err:
        read_conll(p)
    assert "a.conll line 4" in err.value.message and "'nice'" in err.value.message
    assert "B-LOC" in err.value.hint


def test_read_conll_only_docstart(tmp_path):
    p = tmp_path / "d.conll"
    p.write_text("-DOCSTART- -X- -X- O\n\n")
    with pytest.raises(DataError, match="holds no sentences"):
        read_conll(p)


def test_tokenize_offsets():
    text = "Ada's U.K. trip, 2024!"
    toks = tokenize(text)
    assert [t for t, _, _ in toks] == ["Ada", "'", "s", "U", ".", "K", ".", "trip", ",", "2024", "!"]
    assert all(text[s:e] == t for t, s, e in toks)
    assert [t for t, _, _ in tokenize("我爱北京 ok")] == ["我", "爱", "北", "京", "ok"]
    assert spans_to_iob2("我爱北京", [[2, 4, "LOC"]])["tags"] == ["O", "O", "B-LOC", "I-LOC"]


def test_spans_to_iob2():
    text = "Ada Lovelace lives in New York."
    out = spans_to_iob2(
        text,
        [{"start": 22, "end": 30, "label": "LOC"}, {"start": 0, "end": 12, "label": "PER"}],
    )
    assert out["tokens"] == ["Ada", "Lovelace", "lives", "in", "New", "York", "."]
    assert out["tags"] == ["B-PER", "I-PER", "O", "O", "B-LOC", "I-LOC", "O"]
    # list form, and a span that cuts a token tags the whole token
    assert spans_to_iob2("Parisians love it", [[0, 5, "LOC"]])["tags"] == ["B-LOC", "O", "O"]


@pytest.mark.parametrize(
    ("entities", "expected"),
    [
        ([{"start": 0, "end": 3, "label": "PER"}, {"start": 2, "end": 5, "label": "ORG"}], "overlap"),
        ([{"start": 0, "end": 99, "label": "PER"}], "not inside the text"),
        ([{"start": 3, "end": 3, "label": "PER"}], "not inside the text"),
        ([{"start": 0, "end": 3}], "has no label"),
        (["PER"], "is not"),
    ],
)
def test_bad_spans(entities, expected):
    with pytest.raises(DataError, match=expected):
        spans_to_iob2("Ada and Bob", entities, where="x.jsonl line 7")


def test_read_ner_jsonl_spans_and_tokens(tmp_path):
    p = tmp_path / "ner.jsonl"
    rows = [
        {
            "text": "Ada met Bob in Paris",
            "entities": [{"start": 0, "end": 3, "label": "PER"}, {"start": 15, "end": 20, "label": "LOC"}],
        },
        {"text": "nothing here"},
        {"tokens": ["Bob", "smiled"], "ner_tags": ["B-PER", "O"]},
    ]
    p.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    assert read_ner(p) == [
        {"tokens": ["Ada", "met", "Bob", "in", "Paris"], "tags": ["B-PER", "O", "O", "O", "B-LOC"]},
        {"tokens": ["nothing", "here"], "tags": ["O", "O"]},
        {"tokens": ["Bob", "smiled"], "tags": ["B-PER", "O"]},
    ]


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        ({"sentence": "x"}, "expected 'text' \\+ 'entities' or 'tokens' \\+ 'tags'"),
        ({"tokens": ["a", "b"], "tags": ["O"]}, "same length"),
        ({"tokens": ["a"], "tags": [3]}, "tags must be strings"),
        ({"text": "a", "entities": {"start": 0}}, "'entities' must be a list"),
    ],
)
def test_read_ner_bad_records_name_the_line(tmp_path, row, expected):
    p = tmp_path / "bad.jsonl"
    p.write_text('{"text": "fine"}\n' + json.dumps(row) + "\n")
    with pytest.raises(DataError, match=expected) as err:
        read_ner(p)
    assert "bad.jsonl line 2" in err.value.message


def test_read_ner_unknown_suffix(tmp_path):
    p = tmp_path / "ner.csv"
    p.write_text("a,b\n")
    with pytest.raises(DataError) as err:
        read_ner(p)
    assert "'.csv'" in err.value.message and ".conll" in err.value.hint and ".jsonl" in err.value.hint
