"""Zero-shot classification on a tiny encoder, and a trained classifier folder."""

from __future__ import annotations

import pytest

import tamellm
from tamellm.errors import InputError
from tamellm.results import Classification

LABELS = ["sports", "politics", "business"]
TEXTS = ["The striker scored twice in the final", "The election results surprised everyone", "Shares rose"]


def _check(result: Classification, text: str, labels: list[str]) -> None:
    assert isinstance(result, Classification)
    assert result.text == text
    assert set(result.scores) == set(labels)
    assert sum(result.scores.values()) == pytest.approx(1.0, abs=1e-4)
    assert all(0.0 <= s <= 1.0 for s in result.scores.values())
    assert result.label == max(result.scores, key=result.scores.get)
    assert result.score == result.scores[result.label]
    assert list(result.scores.values()) == sorted(result.scores.values(), reverse=True)  # highest first
    assert result.labels == [result.label]


def test_zero_shot_single_text_gives_one_result(tiny_bert_dir):
    result = tamellm.classify(TEXTS[0], labels=LABELS, model=tiny_bert_dir)
    _check(result, TEXTS[0], LABELS)


def test_zero_shot_list_gives_list_in_order(tiny_bert_dir):
    results = tamellm.classify(TEXTS, labels=LABELS, model=tiny_bert_dir)
    assert isinstance(results, list) and len(results) == len(TEXTS)
    for text, result in zip(TEXTS, results, strict=True):
        _check(result, text, LABELS)
    # Batched results equal one-by-one results.
    for text, result in zip(TEXTS, results, strict=True):
        alone = tamellm.classify(text, labels=LABELS, model=tiny_bert_dir)
        assert alone.scores == pytest.approx(result.scores, abs=1e-4)


def test_zero_shot_label_forms(tiny_bert_dir):
    from_string = tamellm.classify(TEXTS[0], labels="sports, politics , business", model=tiny_bert_dir)
    _check(from_string, TEXTS[0], LABELS)
    described = tamellm.classify(
        TEXTS[0], labels={"sports": "football and games", "money": ""}, model=tiny_bert_dir
    )
    _check(described, TEXTS[0], ["sports", "money"])


def test_zero_shot_multi_label(tiny_bert_dir):
    result = tamellm.classify(TEXTS[0], labels=LABELS, model=tiny_bert_dir, multi_label=True)
    assert set(result.scores) == set(LABELS)
    assert all(0.0 < s < 1.0 for s in result.scores.values())
    assert result.labels and set(result.labels) <= set(LABELS)
    assert result.label == max(result.scores, key=result.scores.get)


@pytest.mark.parametrize(
    ("labels", "message"),
    [
        (None, "No labels given"),
        (["sports"], "at least two distinct labels"),
        (["sports", "sports", " "], "at least two distinct labels"),
        ("sports", "at least two distinct labels"),
        ([], "at least two distinct labels"),
    ],
)
def test_zero_shot_needs_two_labels(tiny_bert_dir, labels, message):
    with pytest.raises(InputError, match=message) as err:
        tamellm.classify("some text", labels=labels, model=tiny_bert_dir)
    assert "labels=" in err.value.hint


def test_trained_classifier_uses_its_own_labels(tiny_classifier_dir):
    result = tamellm.classify("This phone is great", model=tiny_classifier_dir)
    _check(result, "This phone is great", ["negative", "positive"])
    results = tamellm.classify(TEXTS, model=str(tiny_classifier_dir))
    assert [r.text for r in results] == TEXTS
    for text, r in zip(TEXTS, results, strict=True):
        _check(r, text, ["negative", "positive"])
    # Labels given anyway are ignored: the model knows its labels.
    ignored = tamellm.classify("This phone is great", labels=["a", "b"], model=tiny_classifier_dir)
    assert ignored.scores == result.scores


def test_trained_classifier_batched_equals_one_by_one_and_truncates(tiny_classifier_dir):
    model = tamellm.load(tiny_classifier_dir)
    positions = model.model.config.max_position_embeddings
    texts = ["ok", " ".join(["great"] * (positions * 2)), "The service was terrible and the soup was cold."]
    batched = model.probabilities(texts, batch_size=2)
    alone = [model.probabilities([t])[0] for t in texts]
    for row, single in zip(batched.tolist(), alone, strict=True):
        assert row == pytest.approx(single.tolist(), abs=1e-5)


def test_a_non_classifier_model_is_refused(tiny_ner_dir):
    with pytest.raises(InputError, match="is a ner model, not a classifier"):
        tamellm.classify("Barack Obama", labels=["a", "b"], model=tiny_ner_dir)
