"""Explanations for every task: zero-shot, NER (per entity), generation (per generated token), spaCy."""

from __future__ import annotations

import pytest
import torch

import tamellm
from tamellm.errors import InputError
from tamellm.explanations import build_target, explain_target


@pytest.fixture(autouse=True)
def _threads():
    torch.set_num_threads(2)


def test_zero_shot_explains_each_candidate_label(tiny_bert_dir):
    labels = ["sports", "weather"]
    prediction = tamellm.classify("The striker scored twice", labels=labels, model=str(tiny_bert_dir))
    result = tamellm.api.explain("The striker scored twice", model=str(tiny_bert_dir), labels=labels,
                                 all_labels=True)
    assert result.task == "zero-shot-classification"
    assert result.label == prediction.label
    assert set(result.per_label) == set(labels)
    for label in labels:  # the target scores what the task predicts
        assert result.probabilities[label] == pytest.approx(prediction.scores[label], abs=1e-4)
    assert [w.word for w in result.words] == ["The", "striker", "scored", "twice"]


def test_zero_shot_without_labels_says_what_is_missing(tiny_bert_dir):
    model = tamellm.load(str(tiny_bert_dir), task="zero-shot-classification")
    with pytest.raises(InputError, match="candidate labels"):
        model.explain("a text")


def test_ner_explains_each_entity(tiny_ner_dir):
    text = "Barack Obama visited Paris"
    entities = tamellm.ner(text, model=str(tiny_ner_dir)).entities
    assert entities  # the fixture's bias makes the random model emit entities
    result = tamellm.api.explain(text, model=str(tiny_ner_dir), all_labels=True)
    assert result.task == "ner"
    assert len(result.per_label) == len(entities)
    first = entities[0]
    assert result.label.startswith(f"{first.label}: {first.text}")
    # By entity text alone, too.
    again = tamellm.api.explain(text, model=str(tiny_ner_dir), label=first.text, method="occlusion")
    assert again.label == result.label


def test_ner_integrated_gradients_add_up_to_the_entity_score_gap(tiny_ner_dir):
    from tamellm.explanations.integrated_gradients import word_baseline

    model = tamellm.load(str(tiny_ner_dir))
    target = build_target(model, "Angela Merkel met the president in Berlin")
    result = explain_target(target, "integrated_gradients", n_steps=64)
    with torch.no_grad():
        gap = target.forward_ids(target.input_ids) - target.forward_ids(word_baseline(target, target.pad_id))
    assert sum(w.score for w in result.words) == pytest.approx(float(gap[0, 0]), abs=0.02)


def test_generation_explains_every_generated_token(tiny_gpt2_dir):
    prompt = "What is the capital of France?"
    expected = tamellm.generate(prompt, model=str(tiny_gpt2_dir), max_new_tokens=4).text
    model = tamellm.load(str(tiny_gpt2_dir))
    target = build_target(model, prompt, max_new_tokens=4)
    result = explain_target(target, "gradient_x_input", all_labels=True)
    assert result.task == "generate"
    assert result.label == expected  # the answer the model really gives
    n_tokens = len(target.outputs) - 1
    assert 1 <= n_tokens <= 4
    # Only the user's words are attributed, not the chat template around them.
    assert [w.word for w in result.words] == ["What", "is", "the", "capital", "of", "France", "?"]
    # Gradient × input is linear in the output: the whole answer's scores are the sum of its tokens'.
    rows = list(result.per_label.values())
    total = [w.score for w in rows[0]]
    summed = [sum(row[i].score for row in rows[1:]) for i in range(len(total))]
    assert total == pytest.approx(summed, abs=1e-4)


def test_generation_with_perturbation_method(tiny_gpt2_dir):
    result = tamellm.api.explain("The film was boring", model=str(tiny_gpt2_dir), method="occlusion",
                                 max_new_tokens=3)
    assert len(result.words) == 4 and all(isinstance(w.score, float) for w in result.words)


def test_too_long_input_is_rejected_with_the_limit(tiny_classifier_dir):
    text = " ".join(["the film was boring"] * 100)
    with pytest.raises(InputError, match="at most 64"):
        tamellm.api.explain(text, model=str(tiny_classifier_dir))


def test_unknown_method_lists_the_methods(tiny_classifier_dir):
    with pytest.raises(InputError, match="Unknown explanation method 'integrated_gradient'") as info:
        tamellm.api.explain("good film", model=str(tiny_classifier_dir), method="integrated_gradient")
    assert "integrated_gradients" in str(info.value)


def test_unknown_label_lists_the_labels(tiny_classifier_dir):
    with pytest.raises(InputError, match="choose one of: negative, positive"):
        tamellm.api.explain("good film", model=str(tiny_classifier_dir), label="neutral")


def test_empty_text_is_refused(tiny_classifier_dir):
    with pytest.raises(InputError, match="No text"):
        tamellm.api.explain("   ", model=str(tiny_classifier_dir))


@pytest.mark.integration
def test_spacy_ner_takes_perturbation_methods_only():
    model = tamellm.load("spacy-en-sm")
    text = "Angela Merkel met the president in Berlin."
    result = model.explain(text, label="Berlin")
    assert result.method == "occlusion"
    assert result.label.startswith("GPE: Berlin")
    assert result.top(1)[0].word == "Berlin"
    with pytest.raises(InputError, match="does not apply") as info:
        model.explain(text, method="integrated_gradients")
    assert "occlusion" in info.value.hint and "lime" in info.value.hint
