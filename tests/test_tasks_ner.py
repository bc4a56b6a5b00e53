"""Named entities from a tiny token-classification folder."""

from __future__ import annotations

import pytest

import tamellm
from tamellm.results import Entity, EntityResult

TEXTS = [
    "Barack Obama visited Paris in the spring.",
    "Rain is expected tomorrow in New York.",
    "x",
]


def _check(result: EntityResult, text: str) -> None:
    assert isinstance(result, EntityResult)
    assert result.text == text
    for entity in result.entities:
        assert isinstance(entity, Entity)
        assert 0 <= entity.start < entity.end <= len(text)
        assert text[entity.start : entity.end] == entity.text
        assert entity.label in {"PER", "LOC"}  # B-/I- merged, "O" never reported
        assert 0.0 <= entity.score <= 1.0


def test_ner_list_gives_results_with_valid_spans(tiny_ner_dir):
    results = tamellm.ner(TEXTS, model=tiny_ner_dir)
    assert isinstance(results, list) and len(results) == len(TEXTS)
    for text, result in zip(TEXTS, results, strict=True):
        _check(result, text)
    # The tiny model's head is biased towards B-PER: it does report entities.
    assert results[0].entities
    assert {e.label for r in results for e in r.entities} <= {"PER", "LOC"}


def test_ner_single_text_gives_one_result(tiny_ner_dir):
    result = tamellm.ner(TEXTS[0], model=tiny_ner_dir)
    _check(result, TEXTS[0])
    assert result == tamellm.ner(TEXTS, model=tiny_ner_dir)[0]


def test_ner_on_text_longer_than_the_model_reads(tiny_ner_dir):
    positions = tamellm.load(tiny_ner_dir).model.config.max_position_embeddings
    text = " ".join(["Paris"] * (positions * 2))
    result = tamellm.ner(text, model=tiny_ner_dir)
    _check(result, text)


def test_ner_entities_serialise(tiny_ner_dir):
    data = tamellm.ner(TEXTS[0], model=tiny_ner_dir).to_dict()
    assert data["text"] == TEXTS[0]
    assert all(set(e) == {"text", "label", "start", "end", "score"} for e in data["entities"])


@pytest.mark.parametrize("bad", ["", ["fine", "   "]])
def test_ner_rejects_empty_text(tiny_ner_dir, bad):
    with pytest.raises(tamellm.TamellmError, match="Empty text"):
        tamellm.ner(bad, model=tiny_ner_dir)
