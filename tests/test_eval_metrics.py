"""Evaluation and prediction files on real tiny models: metrics match what the model predicts."""

from __future__ import annotations

import json

import pandas as pd
import pytest

import tamellm
from tamellm.errors import DataError
from tamellm.evaluation import evaluate, predict_file

TEXTS = [
    "This phone is great and the battery lasts all day.",
    "The film was boring and far too long.",
    "I love this restaurant, the food is wonderful.",
    "The service was terrible and the soup was cold.",
    "The new laptop is fast, light and quiet.",
    "Markets fell sharply after the bank raised rates.",
    "The team won the cup after a long season.",
    "Rain is expected tomorrow in New York.",
]


def _flip(label: str) -> str:
    return "negative" if label == "positive" else "positive"


def test_classification_metrics_match_the_models_own_predictions(tmp_path, tiny_classifier_dir):
    predicted = [r.label for r in tamellm.classify(TEXTS, model=tiny_classifier_dir)]
    truth = predicted[:6] + [_flip(p) for p in predicted[6:]]  # 6 of 8 right, by construction
    path = tmp_path / "dev.csv"
    pd.DataFrame({"text": TEXTS, "label": truth}).to_csv(path, index=False)

    result = evaluate(tiny_classifier_dir, path)

    assert result["task"] == "classify" and result["primary_metric"] == "accuracy"
    assert result["accuracy"] == pytest.approx(0.75)
    matrix = result["confusion_matrix"]
    assert result["labels"] == ["negative", "positive"]
    assert sum(map(sum, matrix)) == 8 and matrix[0][0] + matrix[1][1] == 6
    for i, label in enumerate(result["labels"]):
        assert result["per_class"][label]["support"] == truth.count(label) == sum(matrix[i])
    assert result["columns"]["text"] == "text" and result["columns"]["label"] == "label"


def test_classification_refuses_labels_the_model_lacks(tmp_path, tiny_classifier_dir):
    path = tmp_path / "dev.csv"
    pd.DataFrame({"text": TEXTS[:4], "label": ["positive", "negative", "neutral", "positive"]}).to_csv(path)
    with pytest.raises(DataError, match="neutral") as info:
        evaluate(tiny_classifier_dir, path)
    assert "negative, positive" in info.value.hint


def test_classification_names_a_missing_label_column(tmp_path, tiny_classifier_dir):
    path = tmp_path / "dev.csv"
    pd.DataFrame({"text": TEXTS[:4], "label": ["positive"] * 4}).to_csv(path, index=False)
    with pytest.raises(DataError, match="'sentiment' not found"):
        evaluate(tiny_classifier_dir, path, label_column="sentiment")


def test_ner_entity_f1_is_one_on_its_own_tags_and_drops_when_tags_change(tmp_path, tiny_ner_dir):
    from tamellm.evaluation import _tags_from_entities

    sentences = [["Barack", "Obama", "visited", "Paris"], ["Alice", "and", "Bob", "walked", "in", "Rome"]]
    results = tamellm.ner([" ".join(s) for s in sentences], model=tiny_ner_dir)
    own = [_tags_from_entities(s, r.entities)[1] for s, r in zip(sentences, results, strict=True)]
    assert any(tag != "O" for tags in own for tag in tags), "the tiny NER model is biased to emit entities"

    def write(tag_lists, name):
        lines = []
        for tokens, tags in zip(sentences, tag_lists, strict=True):
            lines += [f"{t} {g}" for t, g in zip(tokens, tags, strict=True)] + [""]
        (tmp_path / name).write_text("\n".join(lines), encoding="utf-8")
        return tmp_path / name

    perfect = evaluate(tiny_ner_dir, write(own, "own.conll"))
    assert perfect["task"] == "ner" and perfect["f1"] == pytest.approx(1.0)
    none = evaluate(tiny_ner_dir, write([["O"] * len(s) for s in sentences], "none.conll"))
    assert none["f1"] == 0.0 and none["precision"] == 0.0


def test_generation_rouge_and_perplexity(tmp_path, tiny_gpt2_the_dir):
    path = tmp_path / "qa.csv"
    pd.DataFrame({"question": ["What is the capital?", "Who won?"],
                  "answer": ["the the the the", "a cat sat"]}).to_csv(path, index=False)
    result = evaluate(tiny_gpt2_the_dir, path, max_new_tokens=4)
    assert result["columns"] == {"prompt": "question", "response": "answer"}
    # The model answers "the the the the": ROUGE-L 1 on the first pair, 0 on the second.
    assert result["rouge_l"] == pytest.approx(0.5)
    assert result["perplexity"] > 1.0 and result["examples"] == 2


def test_predict_file_writes_every_class_score(tmp_path, tiny_classifier_dir):
    source = tmp_path / "in.csv"
    pd.DataFrame({"id": range(len(TEXTS)), "review": TEXTS}).to_csv(source, index=False)
    out = tmp_path / "out" / "preds.csv"
    info = predict_file(tiny_classifier_dir, source, out)
    frame = pd.read_csv(out)
    assert info["rows"] == len(TEXTS) and info["column"] == "review"
    assert list(frame.columns) == ["text", "label", "score", "score_negative", "score_positive"]
    assert frame["text"].tolist() == TEXTS
    for _, row in frame.iterrows():
        best = "negative" if row.score_negative >= row.score_positive else "positive"
        assert row.label == best and row.score == pytest.approx(max(row.score_negative, row.score_positive))
    assert not list(out.parent.glob("*.part"))


def test_predict_file_ner_entities_as_json(tmp_path, tiny_ner_dir):
    source = tmp_path / "in.csv"
    pd.DataFrame({"text": TEXTS[:3]}).to_csv(source, index=False)
    predict_file(tiny_ner_dir, source, tmp_path / "p.csv")
    frame = pd.read_csv(tmp_path / "p.csv")
    for text, entities in zip(frame.text, frame.entities, strict=True):
        for entity in json.loads(entities):
            assert text[entity["start"]:entity["end"]] == entity["text"]


def test_empty_text_names_the_file_row(tmp_path, tiny_classifier_dir):
    path = tmp_path / "dev.csv"
    pd.DataFrame({"text": ["great phone", "", "awful soup"], "label": ["positive"] * 3}).to_csv(path, index=False)
    with pytest.raises(DataError, match=r"dev.csv: column 'text' is empty on row\(s\) \[3\]"):
        evaluate(tiny_classifier_dir, path)
