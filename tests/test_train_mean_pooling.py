"""Head-only and few-shot on a sentence-transformers base read its mean-pooled embedding, and the folder is usable."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

import tamellm
from tamellm.config import config_from_dict
from tamellm.models.mean_pooling import sentence_pooling
from tamellm.training.run import train_model
from tests.test_train_core import write_sentiment

pytestmark = pytest.mark.usefixtures("quiet_one_thread")


def _train(tmp_path, base, strategy, n=120, **train):
    data = write_sentiment(tmp_path / "reviews.csv", n=n)
    config = config_from_dict({"task": "classify", "model": str(base), "seed": 2, "output": str(tmp_path / "runs"),
                               "data": {"train": str(data)},
                               "train": {"strategy": strategy, "early_stopping_patience": 0, **train}})
    return train_model(config, run_dir=tmp_path / "run")


def test_sentence_pooling_is_read_from_the_sentence_transformers_layout(tiny_sentence_dir, tiny_bert_dir):
    assert sentence_pooling(tiny_sentence_dir) == {"normalize": True}
    assert sentence_pooling(tiny_bert_dir) is None  # no modules.json: the [CLS] head as before


def test_head_only_on_minilm_learns_and_saves_a_mean_pooling_classifier(tmp_path):
    """The packaged MiniLM (a sentence-transformers folder): its mean-pooled embedding separates sentiment."""
    from safetensors.torch import load_file

    from tamellm.models import resolve

    result = _train(tmp_path, "minilm-l6", "head-only", epochs=1)
    config = json.loads((result.model_dir / "config.json").read_text())
    assert config["model_type"] == "tamellm-mean-pooling-bert" and config["normalize_embeddings"] is True
    # One epoch after the logistic-regression start is enough on this data.
    assert min(result.metrics[s]["accuracy"] for s in ("validation", "test")) >= 0.9, result.metrics
    base = load_file(str(resolve("minilm-l6").path / "model.safetensors"))
    saved = load_file(str(result.model_dir / "model.safetensors"))
    key = next(k for k in base if "word_embeddings" in k)
    assert (base[key] == saved["bert." + key]).all()  # the encoder stayed frozen
    model = tamellm.load(result.model_dir)
    assert [r.label for r in model.predict(["what a lovely, happy evening", "a horrible, sad mess"])] == [
        "positive", "negative"]


def test_mean_pooling_folder_computes_the_head_on_the_normalised_mean(tmp_path, tiny_sentence_dir):
    from safetensors.torch import load_file
    from transformers import AutoModel

    result = _train(tmp_path, tiny_sentence_dir, "head-only", epochs=1)
    saved = load_file(str(result.model_dir / "model.safetensors"))
    model = tamellm.load(result.model_dir)
    texts = ["the film was great and the cast too", "awful"]
    encoder = AutoModel.from_pretrained(result.model_dir)  # the registered bare encoder of the folder
    batch = model.tokenizer(texts, padding=True, return_tensors="pt")
    with torch.no_grad():
        hidden = encoder(**batch).last_hidden_state
        mask = batch["attention_mask"].unsqueeze(-1).float()
        pooled = torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1), dim=-1)
        expected = (pooled @ saved["classifier.weight"].T + saved["classifier.bias"]).softmax(-1)
    assert torch.allclose(model.probabilities(texts), expected, atol=1e-5)


@pytest.mark.parametrize("base", ["tiny_sentence_dir", "tiny_mpnet_sentence_dir"])
def test_a_mean_pooling_classifier_explains_compresses_and_serves(request, tmp_path, base):
    from fastapi.testclient import TestClient

    result = _train(tmp_path, request.getfixturevalue(base), "head-only", epochs=1)
    family = "mpnet" if "mpnet" in base else "bert"
    assert json.loads((result.model_dir / "config.json").read_text())["model_type"] == f"tamellm-mean-pooling-{family}"
    text = "the film was great and the cast too"
    expected = tamellm.load(result.model_dir).predict(text)
    explanation = tamellm.explain(text, model=result.model_dir)
    assert explanation.label == expected.label and explanation.method == "integrated_gradients"
    assert [w.word for w in explanation.words] == text.split()
    assert any(abs(w.score) > 0 for w in explanation.words)
    texts = [f"the film was {w} and the plot too" for w in ("great", "awful", "lovely", "poor")]
    dev = tmp_path / "dev.csv"
    labels = ["positive", "negative"] * 2
    dev.write_text("text,label\n" + "".join(f"{t},{y}\n" for t, y in zip(texts, labels, strict=True)))
    out = tamellm.compress(result.model_dir, dev, output=tmp_path / "small", methods="dynamic-int8", max_drop=1)
    assert out.chosen == "dynamic-int8" and len(tamellm.load(out.path).predict(texts)) == 4
    with TestClient(tamellm.create_app([str(result.model_dir)])) as client:
        answer = client.post("/v1/classify", json={"input": text})
    assert answer.status_code == 200 and answer.json()["data"][0]["label"] == expected.label


def test_few_shot_head_starts_from_logistic_regression(tiny_sentence_dir, tmp_path):
    from sklearn.linear_model import LogisticRegression

    from tamellm.training.collate import collate
    from tamellm.training.strategies.linear_head import choose_c, fit_linear_head, sentence_embedding

    model = tamellm.models.mean_pooling.build_mean_pooling_classifier(tiny_sentence_dir, True, num_labels=3)
    tokenizer = tamellm.load(tiny_sentence_dir).tokenizer
    words = ["great", "awful", "rain", "lovely", "poor", "snow", "good", "bad", "wind"]
    rows = [{**tokenizer(f"the {w} day"), "labels": i % 3} for i, w in enumerate(words)]
    fit_linear_head(model, rows, tokenizer.pad_token_id)
    model.eval()
    batch = collate(rows, tokenizer.pad_token_id, False)
    with torch.no_grad():
        embeddings = sentence_embedding(model, batch).numpy()
        ours = model(**{k: v for k, v in batch.items() if k != "labels"}).logits.softmax(-1).numpy()
    targets = [r["labels"] for r in rows]
    reference = LogisticRegression(C=choose_c(embeddings, targets, 0), max_iter=1000).fit(embeddings, targets)
    assert np.allclose(ours, reference.predict_proba(embeddings), atol=1e-4)


def test_few_shot_on_minilm_learns_from_a_handful(tmp_path):
    result = _train(tmp_path, "minilm-l6", "few-shot", n=24)
    assert json.loads((result.model_dir / "config.json").read_text())["model_type"] == "tamellm-mean-pooling-bert"
    assert result.metrics["test"]["accuracy"] >= 0.9, result.metrics


def test_evaluation_texts_are_not_cut_to_the_training_length(tmp_path, tiny_bert_dir):
    from transformers import AutoTokenizer

    from tamellm.data import load_splits
    from tamellm.training.task_adapters import ADAPTERS

    (tmp_path / "train.csv").write_text("text,label\n" + "good film,pos\nbad film,neg\n" * 4, encoding="utf-8")
    long = "the film was good " + "and the plot too " * 12
    (tmp_path / "test.csv").write_text(f"text,label\n{long},pos\n", encoding="utf-8")
    splits = load_splits(tmp_path / "train.csv", None, tmp_path / "test.csv", val_size=0.25)
    adapter = ADAPTERS["classify"](splits, {"class_weights": "none"})
    tokenizer = AutoTokenizer.from_pretrained(tiny_bert_dir)
    features = adapter.features(tokenizer, 8, 128)
    assert max(len(f["input_ids"]) for f in features["train"]) <= 8
    assert len(features["test"][0]["input_ids"]) == len(tokenizer(long)["input_ids"]) > 8


def test_the_head_fit_sample_keeps_every_class():
    from tamellm.training.strategies.linear_head import _sample

    rows = [{"labels": 0}] * 500 + [{"labels": 1}] * 3 + [{"labels": 2}] * 40
    sample = _sample(rows, limit=50, seed=0)
    counts = {c: sum(r["labels"] == c for r in sample) for c in (0, 1, 2)}
    assert counts[1] >= 1 and counts[2] >= 1 and len(sample) <= 50 + 3 + 20
    assert _sample(rows[:30], limit=50, seed=0) == rows[:30]


def test_the_head_regularisation_is_chosen_by_cross_validation():
    """A weak signal (embeddings close together, as E5's are) needs a weak penalty; one row per class: C = 1."""
    from tamellm.training.strategies.linear_head import choose_c

    rng = np.random.default_rng(0)
    signal = np.repeat([[0.02], [-0.02]], [80, 40], axis=0)
    embeddings = np.hstack([signal, 0.005 * rng.standard_normal((120, 8))])
    targets = [0] * 80 + [1] * 40
    assert choose_c(embeddings, targets, 0) > 1.0  # at C <= 1 the penalty leaves only the majority class
    assert choose_c(embeddings[[0, 80]], [0, 1], 0) == 1.0


def test_the_head_start_embeds_only_what_the_deadline_allows(tiny_sentence_dir):
    """Past the deadline no further block is embedded: the fit uses a seeded sample that holds every class."""
    import time

    from tamellm.training.strategies.linear_head import BLOCK, fit_linear_head, sentence_embedding

    model = tamellm.models.mean_pooling.build_mean_pooling_classifier(tiny_sentence_dir, True, num_labels=2)
    tokenizer = tamellm.load(tiny_sentence_dir).tokenizer
    rows = [{**tokenizer(f"the {'great' if i % 2 else 'awful'} day {i}"), "labels": i % 2} for i in range(3 * BLOCK)]
    embedded = []

    def embed(batch):
        embedded.append(len(batch["input_ids"]))
        return sentence_embedding(model, batch)

    fit_linear_head(model, rows, tokenizer.pad_token_id, embed=embed, deadline=time.monotonic() - 1)
    assert sum(embedded) == BLOCK  # one block, then the deadline stopped it
    assert model.classifier.weight.abs().sum() > 0  # the head was still fitted
    embedded.clear()
    fit_linear_head(model, rows, tokenizer.pad_token_id, embed=embed)
    assert sum(embedded) == 3 * BLOCK
