"""Every result type turns into plain JSON with ``to_dict()``; the catalog and doctor too."""

from __future__ import annotations

import json

import numpy as np
import pytest

import tamellm
from tamellm import api
from tamellm.results import Classification, Embeddings, Entity, EntityResult, Generation, Transcription


def _roundtrip(data: dict) -> dict:
    return json.loads(json.dumps(data, allow_nan=False))


def test_results_of_every_task_are_json(tiny_bert_dir, tiny_classifier_dir, tiny_ner_dir, tiny_gpt2_dir):
    zero_shot = tamellm.classify("a cat", labels=["animal", "money"], model=tiny_bert_dir)
    trained = tamellm.classify("a cat", model=tiny_classifier_dir)
    entities = tamellm.ner("Barack Obama visited Paris.", model=tiny_ner_dir)
    generation = tamellm.generate("Hello", model=tiny_gpt2_dir, max_new_tokens=3)
    embeddings = tamellm.embed(["a cat", "a dog"], model=tiny_bert_dir)

    for result in (zero_shot, trained):
        data = _roundtrip(result.to_dict())
        assert data["label"] == result.label and data["scores"] == result.scores
    data = _roundtrip(entities.to_dict())
    assert data["text"] == entities.text and len(data["entities"]) == len(entities.entities)
    data = _roundtrip(generation.to_dict())
    assert data["finish_reason"] in {"stop", "length"} and data["new_tokens"] == 3
    data = _roundtrip(embeddings.to_dict())
    assert np.allclose(np.array(data["vectors"]), embeddings.vectors)
    assert data["texts"] == ["a cat", "a dog"] and data["model"] == tiny_bert_dir.name


def test_numpy_values_become_plain_python():
    result = Classification("t", "a", {"a": np.float32(0.75), "b": np.float64(0.25)}, ["a"])
    data = _roundtrip(result.to_dict())
    assert data == {"text": "t", "label": "a", "scores": {"a": 0.75, "b": 0.25}, "labels": ["a"]}
    assert type(result.to_dict()["scores"]["a"]) is float
    vectors = Embeddings(["x"], np.ones((1, 3), dtype=np.float32), "m")
    assert _roundtrip(vectors.to_dict())["vectors"] == [[1.0, 1.0, 1.0]]
    entity = EntityResult("Ann", [Entity("Ann", "PER", np.int64(0), np.int64(3), np.float32(0.5))])
    assert _roundtrip(entity.to_dict())["entities"][0] == {
        "text": "Ann", "label": "PER", "start": 0, "end": 3, "score": 0.5,
    }
    transcription = Transcription("hello", "en", [{"start": 0.0, "end": 1.2, "text": "hello"}])
    assert _roundtrip(transcription.to_dict())["segments"][0]["end"] == 1.2


def test_generation_speed():
    assert Generation("x", "p", 10, 2.0).tokens_per_second == 5.0
    assert Generation("x", "p", 10, 0.0).tokens_per_second == 0.0


def test_models_and_doctor_are_json():
    catalog = _roundtrip({"models": api.list_models()})["models"]
    names = {m["name"] for m in catalog}
    assert {"smollm2-135m-instruct", "minilm-l6", "spacy-en-sm", "whisper-tiny-en"} <= names
    for entry in catalog:
        assert entry["install"].startswith("pip install")
        assert entry["installed"] == (entry["path"] is not None)
    report = _roundtrip(api.doctor())
    assert report["versions"]["torch"].startswith("2.")
    assert report["network"] is False  # offline unless the user allows it


def test_package_level_list_models_function():
    import tamellm.models  # noqa: F401  (the sub-package must not shadow the function)

    names = [m["name"] for m in tamellm.list_models()]
    assert "minilm-l6" in names


def test_unknown_attribute_of_the_package():
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        tamellm.nope  # noqa: B018


def test_load_refuses_a_task_the_folder_cannot_serve(tiny_classifier_dir, tiny_gpt2_dir):
    from tamellm.errors import InputError

    with pytest.raises(InputError, match="cannot (serve task 'generate'|run on a model of kind)"):
        api.load(tiny_classifier_dir, task="generate")
    with pytest.raises(InputError, match="it serves: generate"):
        api.load(tiny_gpt2_dir, task="embed")
    # A fine-tuned encoder still embeds and classifies zero-shot through its base model.
    assert api.load(tiny_classifier_dir, task="embed").predict("hello").dim == 32
