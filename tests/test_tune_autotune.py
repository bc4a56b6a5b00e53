"""AutoTune end to end with the real trainer on a tiny BERT: trials, best model, resume, report, runs."""

from __future__ import annotations

import json

import pandas as pd
import pytest

pytest.importorskip("tamellm.training.run", reason="the trainer (tamellm.training) is not there yet")

import tamellm  # noqa: E402
from tamellm.run_folders import list_runs  # noqa: E402
from tamellm.tuning import autotune  # noqa: E402
from tamellm.tuning.job import job_config  # noqa: E402

GOOD = ["great phone", "I love this restaurant", "the food is wonderful", "fast, light and quiet laptop",
        "the team won the cup", "a wonderful film"]
BAD = ["awful soup", "the service was terrible", "boring and far too long", "the soup was cold",
       "markets fell sharply", "a terrible phone"]


@pytest.fixture(autouse=True)
def no_tracking(monkeypatch):
    """MLflow / TensorBoard logging is the trainer's concern and costs seconds per trial: off here."""
    monkeypatch.setenv("TAMELLM_TRACKING", "0")


@pytest.fixture
def reviews(tmp_path):
    rows = [{"review": t, "label": "positive"} for t in GOOD * 3]
    rows += [{"review": t, "label": "negative"} for t in BAD * 3]
    path = tmp_path / "reviews.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def test_two_trials_then_resume_to_three(tmp_path, reviews, tiny_bert_dir):
    config = job_config(reviews, model=str(tiny_bert_dir), epochs=1, batch_size=8, max_length=16, seed=0)
    tune_dir = tmp_path / "tune"
    result = autotune(config, trials=2, tune_dir=tune_dir)
    assert len(result.trials) == 2 and result.metric == "accuracy"
    assert result.best_params["strategy"] in {"head-only", "lora", "full", "few-shot"}
    loaded = tamellm.load(result.model_dir)
    assert set(loaded.labels) == {"negative", "positive"}
    assert loaded.predict("great phone").label in {"negative", "positive"}
    hpo = json.loads((tune_dir / "hpo.json").read_text())
    assert [t["number"] for t in hpo["trials"]] == [0, 1] and hpo["best_trial"] in (0, 1)
    assert (tune_dir / "trials" / f"{hpo['best_trial']:03d}" / "model").is_dir()
    page = (tune_dir / "report.html").read_text()
    assert 'id="hpo"' in page and 'id="metrics"' in page
    listed = list_runs(tmp_path)
    assert [r["kind"] for r in listed] == ["tune"] and listed[0]["validation"] == pytest.approx(result.best_value)

    again = autotune(config, trials=3, tune_dir=tune_dir, resume=True)
    assert len(again.trials) == 3
    assert [t["number"] for t in again.trials] == [0, 1, 2]


@pytest.mark.integration
def test_ray_backend_end_to_end(tmp_path, reviews, tiny_bert_dir):
    config = job_config(reviews, model=str(tiny_bert_dir), epochs=1, batch_size=8, max_length=16, seed=0,
                        strategy="head-only")
    result = autotune(config, trials=2, backend="ray", tune_dir=tmp_path / "ray-tune")
    assert result.backend == "ray" and len(result.trials) == 2
    assert tamellm.load(result.model_dir).predict("great phone").label in {"negative", "positive"}
    assert json.loads((tmp_path / "ray-tune" / "hpo.json").read_text())["backend"] == "ray"
