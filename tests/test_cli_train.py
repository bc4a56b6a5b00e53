"""``tamellm train`` / ``tune`` / ``eval`` / ``runs`` through the real entry point with a tiny BERT."""

from __future__ import annotations

import importlib.util
import json

import pandas as pd
import pytest
from test_cli_core import invoke

GOOD = ["great phone", "I love this restaurant", "the food is wonderful", "a wonderful film"]
BAD = ["awful soup", "the service was terrible", "boring and far too long", "a terrible phone"]


@pytest.fixture(autouse=True)
def no_tracking(monkeypatch):
    """MLflow / TensorBoard logging is the trainer's concern and costs seconds per trial: off here."""
    monkeypatch.setenv("TAMELLM_TRACKING", "0")


@pytest.fixture
def reviews(tmp_path):
    rows = [{"review": t, "stars": "good"} for t in GOOD * 4] + [{"review": t, "stars": "bad"} for t in BAD * 4]
    path = tmp_path / "reviews.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def test_train_names_a_missing_file(tmp_path, capsys):
    code, _, err = invoke(capsys, "train", "--data", str(tmp_path / "nope.csv"))
    assert code == 2 and "nope.csv" in err


def test_train_names_a_wrong_label_column_and_the_columns(capsys, reviews):
    code, _, err = invoke(capsys, "train", "--data", str(reviews), "--label-column", "sentiment")
    assert code == 2
    assert "'sentiment'" in err and "'stars'" in err and "'review'" in err


def test_train_bad_strategy_lists_the_accepted_ones(capsys, reviews):
    code, _, err = invoke(capsys, "train", "--data", str(reviews), "--strategy", "lorra")
    assert code == 2 and "strategy" in err and "lora" in err


def test_tune_bad_config_key_names_it(tmp_path, capsys, reviews):
    cfg = tmp_path / "cfg.yaml"
    cfg.write_text(f"data:\n  train: {reviews}\ntrain:\n  learnig_rate: 0.001\n")
    code, _, err = invoke(capsys, "tune", "--config", str(cfg))
    assert code == 2 and "learnig_rate" in err and "learning_rate" in err


trainer = pytest.mark.skipif(importlib.util.find_spec("tamellm.training") is None,
                             reason="the trainer (tamellm.training) is not there yet")


@trainer
def test_train_tunes_then_eval_and_runs(tmp_path, capsys, reviews, tiny_bert_dir):
    out_dir = tmp_path / "runs" / "t1"
    code, out, err = invoke(capsys, "train", "--data", str(reviews), "--model", str(tiny_bert_dir), "--trials", "2",
                            "--epochs", "1", "--max-length", "16", "--output", str(out_dir), "--json")
    assert code == 0, err
    result = json.loads(out)
    assert len(result["trials"]) == 2 and result["model"] == str(out_dir / "model")
    assert (out_dir / "report.html").is_file()
    # Only the best trial keeps its model folder; every trial keeps its metrics.
    assert len(list(out_dir.glob("trials/*/model"))) == 1
    assert len(list(out_dir.glob("trials/[0-9]*/result.json"))) == sum(t["state"] == "COMPLETE"
                                                                      for t in result["trials"])
    # A head-only winner is trained again on train + validation (tuning/refit.py), beside the trials.
    refit = result["refit"]
    assert (out_dir / "trials" / "refit" / "result.json").is_file() == (refit is not None)
    assert refit is None or refit["train_rows"] > result["metrics"]["validation"]["examples"]

    code, out, err = invoke(capsys, "eval", str(out_dir / "model"), "--data", str(reviews), "--json")
    assert code == 0, err
    metrics = json.loads(out)
    assert metrics["examples"] == len(GOOD + BAD) * 4 and set(metrics["labels"]) == {"good", "bad"}

    code, out, _ = invoke(capsys, "runs", str(tmp_path / "runs"), "--json")
    assert code == 0 and [r["name"] for r in json.loads(out)] == ["t1"]


@trainer
@pytest.mark.skipif(not hasattr(__import__("tamellm.api").api, "train"), reason="api.train is not there yet")
def test_train_with_hyperparameters_runs_once(tmp_path, capsys, reviews, tiny_bert_dir):
    out_dir = tmp_path / "single"
    code, out, err = invoke(capsys, "train", "--data", str(reviews), "--model", str(tiny_bert_dir), "--strategy",
                            "head-only", "--epochs", "1", "--output", str(out_dir), "--json")
    assert code == 0, err
    result = json.loads(out)
    assert result["params"]["strategy"] == "head-only"
    assert (out_dir / "model").is_dir() and (out_dir / "report.html").is_file()


@trainer
def test_train_leaves_out_rows_without_text_and_names_them(tmp_path, capsys, caplog, reviews, tiny_bert_dir):
    frame = pd.read_csv(reviews)
    frame.loc[[2, 5], "review"] = None  # empty cells, as a spreadsheet export writes them
    holes = tmp_path / "holes.csv"
    frame.to_csv(holes, index=False)
    out_dir = tmp_path / "holes"
    code, _, err = invoke(capsys, "train", "--data", str(holes), "--model", str(tiny_bert_dir), "--strategy",
                          "head-only", "--epochs", "1", "--output", str(out_dir), "--json")
    assert code == 0, err
    assert "rows 4, 7" in caplog.text  # the file's own line numbers of the empty cells
    left_out = [r.getMessage() for r in caplog.records if "left out" in r.getMessage()]
    assert left_out and all("that have no text or no label" in m for m in left_out)
    assert (out_dir / "model").is_dir()
