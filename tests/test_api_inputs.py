"""Bad input gets an InputError that says what is wrong and what would be accepted."""

from __future__ import annotations

import pytest

import tamellm
from tamellm.errors import InputError, TamellmError
from tamellm.inputs import as_label_list, as_text_list

LABELS = ["positive", "negative"]


@pytest.mark.parametrize(
    ("texts", "message"),
    [
        ("", "Empty text"),
        ("   \n", "Empty text"),
        (["fine", ""], "Empty text #2"),
        ([], "No text given"),
        (["fine", 3], "text #2 is a int, not a string"),
        ([None], "text #1 is a NoneType, not a string"),
        (None, "Expected a text or a list of them, got NoneType"),
        (42, "Expected a text or a list of them, got int"),
        (b"bytes", "Expected a text or a list of them, got bytes"),
    ],
)
def test_bad_texts_for_classify(tiny_bert_dir, texts, message):
    with pytest.raises(InputError, match=message) as err:
        tamellm.classify(texts, labels=LABELS, model=tiny_bert_dir)
    assert err.value.hint  # says what would be accepted
    assert isinstance(err.value, TamellmError) and err.value.exit_code == 2


@pytest.mark.parametrize("texts", ["", ["a", " "], [], None])
def test_bad_texts_for_embed_and_similarity(tiny_bert_dir, texts):
    with pytest.raises(InputError):
        tamellm.embed(texts, model=tiny_bert_dir)
    with pytest.raises(InputError):
        tamellm.similarity("a cat", texts, model=tiny_bert_dir)


def test_bad_texts_for_a_trained_classifier(tiny_classifier_dir):
    with pytest.raises(InputError, match="Empty text #3"):
        tamellm.classify(["good", "bad", "\t"], model=tiny_classifier_dir)


def test_error_text_shows_message_and_hint():
    err = InputError("No labels given", "pass at least two labels")
    assert str(err) == "No labels given (pass at least two labels)"
    assert str(InputError("plain")) == "plain"


def test_as_text_list_accepts_strings_and_iterables():
    assert as_text_list("one") == (["one"], True)
    assert as_text_list(("a", "b")) == (["a", "b"], False)
    assert as_text_list(t for t in ["x", "y"]) == (["x", "y"], False)
    assert as_text_list(["p"], what="prompt") == (["p"], False)
    with pytest.raises(InputError, match="Empty prompt #1"):
        as_text_list([" "], what="prompt")


def test_as_label_list_forms():
    assert as_label_list("a, b,,c ") == {"a": "a", "b": "b", "c": "c"}
    assert as_label_list(["x ", "y"]) == {"x": "x", "y": "y"}
    assert as_label_list({"pos": "a happy review", "neg": ""}) == {"pos": "a happy review", "neg": "neg"}
    with pytest.raises(InputError, match=r"got \['a'\]"):
        as_label_list(["a", "a"])
    with pytest.raises(InputError, match="got none"):
        as_label_list(" , ")
