"""Augmentation in training: EDA and the robustness perturbations, seeded, with rare classes topped up."""

from __future__ import annotations

import json
import random

import pandas as pd
import pytest

from tamellm.data import Splits, infer_columns
from tamellm.errors import ConfigError
from tamellm.robust import PERTURBATIONS, PerturbContext
from tamellm.training.augment import augment_splits, eda, perturb
from tamellm.training.params import TrainParams

pytestmark = pytest.mark.usefixtures("quiet_one_thread")


def _splits(positive: int, negative: int) -> Splits:
    texts = [f"the film was wonderful and the music {i}" for i in range(positive)]
    texts += [f"the plot is dull and the cast is weak {i}" for i in range(negative)]
    frame = pd.DataFrame({"review": texts, "sentiment": ["pos"] * positive + ["neg"] * negative})
    return Splits(frame, columns=infer_columns(frame, "review", "sentiment"))


def _params(**changes) -> TrainParams:
    return TrainParams(strategy="full", learning_rate=1e-3, epochs=1, batch_size=8, seed=1).replace(**changes)


def test_ratio_adds_rows_copying_labels_and_leaves_the_given_splits_alone():
    data = _splits(20, 20)
    out = augment_splits(data, _params(augment="eda", augment_ratio=0.5), "classify")
    assert len(data.train) == 40 and len(out.train) == 60 and "augmentation 'eda'" in out.notes[-1]
    added = out.train.iloc[40:]
    for text, label in zip(added["review"], added["sentiment"], strict=True):  # each row keeps its source's label
        assert ("wonderful" in text or "music" in text) == (label == "pos") or ("dull" in text) == (label == "neg")
    again = augment_splits(data, _params(augment="eda", augment_ratio=0.5), "classify")
    assert again.train.equals(out.train)  # seeded
    other = augment_splits(data, _params(augment="eda", augment_ratio=0.5, seed=2), "classify")
    assert not other.train.equals(out.train)
    assert augment_splits(data, _params(), "classify") is data  # off by default


def test_rare_classes_are_topped_up_with_augmented_rows():
    out = augment_splits(_splits(40, 8), _params(augment="perturb", augment_ratio=0.0), "classify")
    counts = out.train["sentiment"].value_counts()
    assert counts["pos"] == 40 and counts["neg"] == 8 + 24  # at most 3 augmented rows per rare row
    assert out.train.iloc[48:]["review"].nunique() > 1


def test_eda_and_perturb_edit_a_few_words():
    rng, context = random.Random(0), PerturbContext(synonyms=lambda w: {"film": ["movie"]}.get(w, []))
    text = "the film was wonderful and the music was great too"
    for _ in range(20):
        out = eda(text, rng, context)
        assert abs(len(out.split()) - len(text.split())) <= 2
    outputs = {perturb(text, random.Random(s), PerturbContext()) for s in range(10)}
    invariance = [t for t in PERTURBATIONS.values() if t.expect == "same"]
    assert len(outputs) > 2 and all(o != text for o in outputs)
    assert all(any(t.apply(text, s, 0, PerturbContext()) is not None for t in invariance) for s in range(3))


def test_training_with_augmentation_records_the_added_rows(tmp_path, tiny_bert_dir):
    import tamellm
    from tests.test_train_core import write_sentiment

    data = write_sentiment(tmp_path / "reviews.csv", n=80)
    run = tamellm.train(data=str(data), model=str(tiny_bert_dir), strategy="full", epochs=1, batch_size=16,
                        seed=3, output=str(tmp_path / "runs"), augment="perturb", augment_ratio=1.0)
    record = json.loads((run.run_dir / "data.json").read_text())
    params = json.loads((run.run_dir / "params.json").read_text())
    assert params["augment"] == "perturb" and params["augment_ratio"] == 1.0
    plain = tamellm.train(data=str(data), model=str(tiny_bert_dir), strategy="full", epochs=1, batch_size=16,
                          seed=3, output=str(tmp_path / "runs"))
    plain_record = json.loads((plain.run_dir / "data.json").read_text())
    assert record["rows"]["train"] == 2 * plain_record["rows"]["train"]
    with pytest.raises(ConfigError, match="augment 'edb' is not known"):
        tamellm.train(data=str(data), model=str(tiny_bert_dir), strategy="full", augment="edb",
                      output=str(tmp_path / "runs"))
    with pytest.raises(ConfigError, match="classification"):
        augment_splits(_splits(4, 4), _params(augment="eda"), "ner")
