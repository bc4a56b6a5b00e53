"""The training core on a tiny BERT: strategies, run folder, tracking, loading the result."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

import tamellm
from tamellm.config import config_from_dict
from tamellm.errors import ConfigError, DataError
from tamellm.training.run import train_model

GOOD = ["great", "good", "lovely", "excellent", "nice", "happy"]
BAD = ["bad", "awful", "terrible", "poor", "sad", "horrible"]


def write_sentiment(path, n=120, seed=0):
    """A CSV where the label follows the sentiment word: learnable by a tiny model in a few steps."""
    rng = random.Random(seed)
    lines = ["review,sentiment"]
    for i in range(n):
        positive = i % 2 == 0
        word = rng.choice(GOOD if positive else BAD)
        lines.append(f"the film was {word} and the {rng.choice(['plot', 'cast', 'music'])} too {i},"
                     f"{'positive' if positive else 'negative'}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def make_config(tmp_path, model_dir, **train):
    data = write_sentiment(tmp_path / "reviews.csv")
    return config_from_dict({"task": "classify", "model": str(model_dir), "seed": 3, "output": str(tmp_path / "runs"),
                             "data": {"train": str(data)},
                             "train": {"epochs": 6, "batch_size": 16, "learning_rate": 5e-3,
                                       "early_stopping_patience": 0, **train}})


# Trackers off (one test turns them on) and one thread.
pytestmark = pytest.mark.usefixtures("quiet_one_thread")


def test_full_training_writes_run_folder_that_loads_and_predicts(tmp_path, tiny_bert_dir):
    config = make_config(tmp_path, tiny_bert_dir, strategy="full")
    result = train_model(config, run_dir=tmp_path / "run")
    run = result.run_dir
    for name in ("config.yaml", "params.json", "environment.json", "data.json", "metrics.jsonl", "result.json"):
        assert (run / name).is_file(), name
    assert (run / "checkpoints" / "last" / "state.json").is_file()
    assert not (run / "model.tmp").exists()
    manifest = json.loads((run / "model" / "tamellm.json").read_text())
    assert manifest["task"] == "classify" and manifest["strategy"] == "full"
    assert manifest["labels"] == ["negative", "positive"]
    assert (run / "model" / "README.md").read_text().startswith("---")
    rows = [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines()]
    assert len(rows) == len(result.history) >= 5 and all("accuracy" in r and "loss" in r for r in rows)
    data = json.loads((run / "data.json").read_text())
    assert data["columns"]["text"] == "review" and len(data["files"][0]["sha256"]) == 64
    assert result.metrics["validation"]["accuracy"] >= 0.9, result.metrics
    assert "confusion_matrix" in result.metrics["test"]
    model = tamellm.load(run / "model")
    assert model.predict("the film was great and the plot too").label == "positive"
    assert model.predict("the film was awful and the cast too").label == "negative"


def test_head_only_trains_only_the_head(tmp_path, tiny_bert_dir):
    from safetensors.torch import load_file

    config = make_config(tmp_path, tiny_bert_dir, strategy="head-only", learning_rate=5e-2)
    result = train_model(config, run_dir=tmp_path / "run")
    saved = load_file(str(result.run_dir / "checkpoints" / "best.safetensors"))
    assert saved and all(name.startswith(("classifier.", "bert.pooler.")) for name in saved)
    base = load_file(str(tiny_bert_dir / "model.safetensors"))
    trained = load_file(str(result.model_dir / "model.safetensors"))
    key = next(k for k in base if "embeddings.word_embeddings" in k)
    assert (base[key] == trained["bert." + key.removeprefix("bert.")]).all()
    assert result.params["strategy"] == "head-only"
    assert tamellm.load(result.model_dir).predict("the film was good").label in ("positive", "negative")


def test_lora_merges_into_a_plain_folder(tmp_path, tiny_bert_dir):
    from tamellm.data import load_splits

    config = make_config(tmp_path, tiny_bert_dir, strategy="lora", learning_rate=1e-2, epochs=2)
    result = train_model(config, run_dir=tmp_path / "run", params={"lora_r": 4, "lora_alpha": 8})
    assert not (result.model_dir / "adapter_config.json").exists()
    assert result.params["lora_r"] == 4
    # The merged folder, loaded with plain transformers, predicts what the trained peft model scored.
    splits = load_splits(config.data.train, seed=config.seed)
    texts, labels = splits.validation["review"].tolist(), splits.validation["sentiment"].tolist()
    predicted = [p.label for p in tamellm.load(result.model_dir).predict(texts)]
    accuracy = sum(p == t for p, t in zip(predicted, labels, strict=True)) / len(labels)
    assert accuracy == pytest.approx(result.metrics["validation"]["accuracy"])


def test_report_is_called_and_exceptions_propagate(tmp_path, tiny_bert_dir):
    seen = []

    class Pruned(Exception):
        pass

    def report(step, value):
        seen.append((step, value))
        if len(seen) == 2:
            raise Pruned

    config = make_config(tmp_path, tiny_bert_dir, strategy="full")
    with pytest.raises(Pruned):
        train_model(config, run_dir=tmp_path / "run", report=report)
    assert len(seen) == 2 and 0 <= seen[0][1] <= 1
    assert not (tmp_path / "run" / "model").exists()
    assert (tmp_path / "run" / "checkpoints" / "last" / "state.json").is_file()


def test_budget_stops_gracefully(tmp_path, tiny_bert_dir):
    config = make_config(tmp_path, tiny_bert_dir, strategy="full", epochs=50)
    result = train_model(config, run_dir=tmp_path / "run", budget_s=0.5)
    saved = json.loads((result.run_dir / "result.json").read_text())
    # The budget ends training long before 50 epochs: cut off, or (when the first evaluation came
    # early enough to measure the pace) by a schedule shortened to end with the budget.
    assert saved["steps"] < 50 * 7
    assert (result.model_dir / "model.safetensors").is_file()


def test_bad_params_and_data_are_named(tmp_path, tiny_bert_dir):
    config = make_config(tmp_path, tiny_bert_dir)
    with pytest.raises(ConfigError, match="lora_rank"):
        train_model(config, params={"lora_rank": 4})
    (tmp_path / "one.csv").write_text("text,label\n" + "".join(f"row {i},a\n" for i in range(30)))
    config.data.train = tmp_path / "one.csv"
    with pytest.raises(DataError):
        train_model(config, run_dir=tmp_path / "run2")


def test_tensorboard_and_mlflow_record_the_run(tmp_path, tiny_bert_dir, monkeypatch):
    import mlflow

    monkeypatch.setenv("TAMELLM_TRACKING", "1")
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    config = make_config(tmp_path, tiny_bert_dir, strategy="head-only", epochs=1)
    monkeypatch.chdir(tmp_path)  # a relative run folder, as `tamellm train` makes under runs/
    result = train_model(config, run_dir=Path("run"))
    assert list((tmp_path / "run" / "tensorboard").glob("events.out.tfevents.*"))
    client = mlflow.MlflowClient(tracking_uri=f"sqlite:///{tmp_path / 'run' / 'mlruns' / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("tamellm")
    runs = client.search_runs([experiment.experiment_id])
    assert len(runs) == 1 and runs[0].info.status == "FINISHED"
    assert runs[0].data.params["strategy"] == "head-only"
    assert runs[0].data.metrics["final_validation_accuracy"] == pytest.approx(
        result.metrics["validation"]["accuracy"])


@pytest.mark.parametrize("strategy", ["prompt-tuning", "prefix-tuning"])
def test_prompt_and_prefix_tuning_save_an_adapter_that_loads(tmp_path, tiny_bert_dir, strategy):
    from tamellm.data import load_splits

    config = make_config(tmp_path, tiny_bert_dir, strategy=strategy, epochs=1)
    result = train_model(config, run_dir=tmp_path / "run", params={"num_virtual_tokens": 4})
    assert (result.model_dir / "adapter_config.json").is_file()
    assert json.loads((result.model_dir / "tamellm.json").read_text())["kind"] == "peft"
    splits = load_splits(config.data.train, seed=config.seed)
    texts, labels = splits.validation["review"].tolist(), splits.validation["sentiment"].tolist()
    predicted = [p.label for p in tamellm.load(result.model_dir).predict(texts)]
    accuracy = sum(p == t for p, t in zip(predicted, labels, strict=True)) / len(labels)
    assert accuracy == pytest.approx(result.metrics["validation"]["accuracy"])
    # Explained by removing words (occlusion): one score per word, toward the predicted label.
    why = tamellm.load(result.model_dir).explain(texts[0])
    assert why.method == "occlusion" and why.label == predicted[0]
    assert [w.word for w in why.words] == texts[0].split()


def test_api_train_builds_the_config_from_overrides(tmp_path, tiny_bert_dir):
    from tamellm import api

    data = write_sentiment(tmp_path / "reviews.csv")
    result = api.train(data=data, model=str(tiny_bert_dir), output=tmp_path / "runs", strategy="head-only",
                       epochs=1, learning_rate=1e-2, seed=4)
    assert result.run_dir.parent == tmp_path / "runs" and result.params["learning_rate"] == 1e-2
    assert "seed: 4" in (result.run_dir / "config.yaml").read_text()
    assert tamellm.load(result.model_dir).predict("the film was nice").label in ("positive", "negative")
    with pytest.raises(ConfigError, match="strategy"):
        api.train(data=data, model=str(tiny_bert_dir), strategy="magic")


def test_few_shot_pairs_then_head_gives_a_plain_classifier(tmp_path, tiny_bert_dir):
    from safetensors.torch import load_file

    from tamellm.training.strategies.few_shot import make_pairs

    pairs = make_pairs(["a", "a", "b", "b"], seed=0, per_example=4)
    assert len(pairs) == 16 and all((t == 1.0) == ((i < 2) == (j < 2)) for i, j, t in pairs)
    data = write_sentiment(tmp_path / "few.csv", n=32)
    config = config_from_dict({"task": "classify", "model": str(tiny_bert_dir), "seed": 1,
                               "data": {"train": str(data), "val_size": 0.25, "test_size": 0},
                               "train": {"strategy": "few-shot", "epochs": 5, "batch_size": 8,
                                         "early_stopping_patience": 0}})
    result = train_model(config, run_dir=tmp_path / "run")
    saved = json.loads((result.model_dir / "tamellm.json").read_text())
    assert saved["strategy"] == "few-shot" and saved["kind"] == "transformers"
    base = load_file(str(tiny_bert_dir / "model.safetensors"))
    tuned = load_file(str(result.model_dir / "model.safetensors"))
    key = "encoder.layer.0.attention.self.query.weight"
    assert not (base[key] == tuned["bert." + key]).all()  # the contrastive phase moved the encoder
    assert tamellm.load(result.model_dir).predict("the film was bad").label in ("positive", "negative")
