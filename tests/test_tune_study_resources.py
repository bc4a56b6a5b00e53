"""What the trials of one study share: the base model read once, frozen features computed once, one MLflow store."""

from __future__ import annotations

import importlib
import inspect

import pandas as pd
import pytest
import torch

from tamellm.training.resources import EmbeddingCache, TrainResources
from tamellm.tuning import autotune
from tamellm.tuning.job import job_config

GOOD = ["great phone", "I love this restaurant", "the food is wonderful", "fast, light and quiet laptop",
        "the team won the cup", "a wonderful film"]
BAD = ["awful soup", "the service was terrible", "boring and far too long", "the soup was cold",
       "markets fell sharply", "a terrible phone"]


@pytest.fixture
def reviews(tmp_path):
    rows = [{"review": f"{t} {i}", "label": "positive"} for i in range(3) for t in GOOD]
    rows += [{"review": f"{t} {i}", "label": "negative"} for i in range(3) for t in BAD]
    path = tmp_path / "reviews.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


@pytest.fixture
def captured(monkeypatch):
    """The study's TrainResources, as autotune made them."""
    module = importlib.import_module("tamellm.tuning.autotune")  # the package's `autotune` is the function
    made: list[TrainResources] = []
    real = module.study_resources

    def capture(*args, **kwargs):
        made.append(real(*args, **kwargs))
        return made[-1]

    monkeypatch.setattr(module, "study_resources", capture)
    return made


def _count(monkeypatch, owner, name: str) -> list:
    calls: list = []
    real = getattr(owner, name)

    def counted(*args, **kwargs):
        calls.append(args)
        return real(*args, **kwargs)

    static = isinstance(inspect.getattr_static(owner, name), staticmethod)
    monkeypatch.setattr(owner, name, staticmethod(counted) if static else counted)
    return calls


def test_head_only_study_reads_the_base_once_and_embeds_each_text_once(tmp_path, reviews, tiny_sentence_dir,
                                                                     captured, monkeypatch, quiet_one_thread):
    from tamellm.training.task_adapters.classification import ClassificationAdapter

    builds = _count(monkeypatch, ClassificationAdapter, "build_model")
    tokenizers = _count(monkeypatch, __import__("transformers").AutoTokenizer, "from_pretrained")
    config = job_config(reviews, model=str(tiny_sentence_dir), strategy="head-only", epochs=2, batch_size=8, seed=0)
    result = autotune(config, trials=3, tune_dir=tmp_path / "tune")
    assert len(result.trials) == 3
    resources = captured[0]
    assert len(builds) == 1 and resources.model_loads == 1
    assert [a for a in tokenizers if str(a[0]) == str(tiny_sentence_dir)] == [(tiny_sentence_dir,)]
    # 36 distinct texts in train + validation + test: each embedded once over 3 trials x 2 epochs.
    assert 0 < resources.embeddings.computed <= 36

    # Every trial started from the untouched base: the prototype still equals a fresh build.
    prototype = next(iter(resources._models.values()))
    torch.manual_seed(0)
    from tamellm.data import load_splits

    splits = load_splits(reviews, seed=0)
    fresh = ClassificationAdapter(splits, {}).build_model(tiny_sentence_dir, sentence_pooling=True)
    for name, tensor in fresh.state_dict().items():
        assert torch.equal(tensor, prototype.state_dict()[name]), name


def test_few_shot_contrastive_phase_runs_once_per_study(tmp_path, reviews, tiny_sentence_dir, monkeypatch,
                                                        quiet_one_thread):
    from tamellm.training.strategies.few_shot import FewShot

    phases = _count(monkeypatch, FewShot, "_contrastive")
    config = job_config(reviews, model=str(tiny_sentence_dir), strategy="few-shot", epochs=1, batch_size=8, seed=0)
    result = autotune(config, trials=2, tune_dir=tmp_path / "tune")
    assert len(result.trials) == 2 and len(phases) == 1


def test_a_study_keeps_one_mlflow_store(tmp_path, reviews, tiny_bert_dir, monkeypatch):
    mlflow = pytest.importorskip("mlflow")
    monkeypatch.setenv("TAMELLM_TRACKING", "1")
    config = job_config(reviews, model=str(tiny_bert_dir), strategy="head-only", epochs=1, batch_size=8,
                        max_length=16, seed=0)
    tune_dir = tmp_path / "tune"
    autotune(config, trials=2, tune_dir=tune_dir)
    assert (tune_dir / "mlruns" / "mlflow.db").is_file()
    assert not list((tune_dir / "trials").glob("*/mlruns"))
    assert sorted(p.parent.name for p in (tune_dir / "trials").glob("*/tensorboard")) == ["000", "001", "refit"]
    client = mlflow.MlflowClient(tracking_uri=f"sqlite:///{tune_dir / 'mlruns' / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("tune")
    runs = client.search_runs([experiment.experiment_id])
    assert sorted(r.info.run_name for r in runs) == ["000", "001", "refit"]  # the winner's refit is a run too


def test_embedding_cache_embeds_a_row_once_whatever_its_padding():
    cache = EmbeddingCache()
    seen: list[int] = []

    def embed(batch):
        seen.append(len(batch["input_ids"]))
        return batch["input_ids"].float().sum(1, keepdim=True)

    first = {"input_ids": torch.tensor([[1, 2, 0], [3, 4, 5]]), "attention_mask": torch.tensor([[1, 1, 0], [1, 1, 1]])}
    again = {"input_ids": torch.tensor([[3, 4, 5], [1, 2, 0], [7, 0, 0]]),
             "attention_mask": torch.tensor([[1, 1, 1], [1, 1, 0], [1, 0, 0]])}
    assert cache.embed("k", embed, first).squeeze(1).tolist() == [3.0, 12.0]
    assert cache.embed("k", embed, again).squeeze(1).tolist() == [12.0, 3.0, 7.0]
    assert seen == [2, 1] and cache.computed == 3


def test_a_head_only_winner_is_trained_again_on_train_and_validation(tmp_path, reviews, tiny_sentence_dir,
                                                                      quiet_one_thread):
    import json

    from tamellm.data import load_splits

    splits = load_splits(reviews, seed=0)
    config = job_config(reviews, model=str(tiny_sentence_dir), strategy="head-only", epochs=2, batch_size=8, seed=0)
    result = autotune(config, splits=splits, trials=2, tune_dir=tmp_path / "tune")

    assert result.refit["train_rows"] == len(splits.train) + len(splits.validation)
    assert result.refit["trial"] == json.loads((tmp_path / "tune" / "hpo.json").read_text())["best_trial"]
    refit_run = json.loads((tmp_path / "tune" / "trials" / "refit" / "result.json").read_text())
    assert refit_run["head_start"]["rows"] == result.refit["train_rows"]  # the head's fit saw validation too
    assert "validation" not in refit_run["metrics"]  # nothing held out is left to score it
    saved = json.loads((tmp_path / "tune" / "result.json").read_text())
    assert saved["metrics"]["test"] == refit_run["metrics"]["test"] == result.best_run.metrics["test"]
    assert saved["metrics"]["validation"]["accuracy"] == result.best_value  # the trial's score that chose it
    best_trial = tmp_path / "tune" / "trials" / f"{result.refit['trial']:03d}"
    # The tune folder holds the refit's model (its only copy), not the trial's.
    assert not (tmp_path / "tune" / "trials" / "refit" / "model").exists()
    assert (tmp_path / "tune" / "model" / "model.safetensors").read_bytes() != \
        (best_trial / "model" / "model.safetensors").read_bytes()

    kept = autotune(config.model_copy(update={"tune": config.tune.model_copy(update={"refit": False})}),
                    splits=splits, trials=1, tune_dir=tmp_path / "plain")
    assert kept.refit is None and not (tmp_path / "plain" / "trials" / "refit").exists()


def test_tied_validation_scores_go_to_the_head_that_cross_validated_best(tmp_path):
    import json

    from tamellm.tuning.autotune import _best

    rows = []
    for number, cv in enumerate((0.70, 0.78, None)):
        folder = tmp_path / f"{number:03d}"
        folder.mkdir()
        result = {} if cv is None else {"head_start": {"C": 1.0, "cv_accuracy": cv, "rows": 100}}
        (folder / "result.json").write_text(json.dumps(result))
        rows.append({"number": number, "state": "COMPLETE", "value": 0.75, "run_dir": str(folder), "params": {}})
    assert _best(rows, "maximize")["number"] == 1
    rows[2]["value"] = 0.76
    assert _best(rows, "maximize")["number"] == 2  # a better validation score still wins
    assert _best(rows, "minimize")["number"] == 1
