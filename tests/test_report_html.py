"""The HTML run report and the runs listing, on run folders laid out as the trainer writes them."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tamellm.cli.main import run
from tamellm.errors import InputError
from tamellm.metrics import classification_metrics
from tamellm.reports import render_report, write_report
from tamellm.run_folders import list_runs


def _write_run(folder: Path, accuracy_hint: str = "a", seconds: float = 12.5, strategy: str = "lora") -> dict:
    """A finished run folder: result.json, params.json, metrics.jsonl, data.json, model/tamellm.json."""
    truth = ["pos", "neg", "pos", "neg", "pos", "neu"]
    guess = ["pos", "neg", "neg", "neg", "pos", "pos"] if accuracy_hint == "a" else truth
    test = classification_metrics(truth, guess, ["neg", "neu", "pos"])
    validation = classification_metrics(truth, truth, ["neg", "neu", "pos"])
    (folder / "model").mkdir(parents=True)
    (folder / "model" / "tamellm.json").write_text(json.dumps(
        {"task": "classify", "labels": ["neg", "neu", "pos"], "primary_metric": "accuracy", "strategy": strategy}))
    (folder / "params.json").write_text(json.dumps({"strategy": strategy, "learning_rate": 5e-4, "lora_r": 8}))
    history = [{"step": s, "epoch": s / 10, "split": "validation", "loss": 1.0 / s, "learning_rate": 1e-4,
                "metrics": {"accuracy": 0.5 + s / 100}} for s in (10, 20, 30)]
    (folder / "metrics.jsonl").write_text("\n".join(json.dumps(h) for h in history) + "\n{\"torn")
    (folder / "data.json").write_text(json.dumps({
        "columns": {"text": "review", "label": "stars", "reason_text": "named 'review'",
                    "reason_label": "few distinct values"},
        "issues": [{"level": "warning", "message": "3 duplicate rows <b>", "fix": "drop them"}]}))
    result = {"metrics": {"validation": validation, "test": test}, "seconds": seconds, "stopped_early": True,
              "best_step": 20}
    (folder / "result.json").write_text(json.dumps(result))
    return result


def test_report_has_every_section_and_needs_no_network(tmp_path):
    result = _write_run(tmp_path / "run1")
    path = write_report(tmp_path / "run1")
    assert path == tmp_path / "run1" / "report.html"
    page = path.read_text(encoding="utf-8")
    for anchor in ("metrics", "learning-curves", "confusion-matrix", "per-class", "params", "data"):
        assert f'id="{anchor}"' in page
    assert 'id="hpo"' not in page  # not a tune folder
    # Offline: plotly.js inline, no script or stylesheet fetched from elsewhere.
    assert not re.search(r"<script[^>]+src=", page) and not re.search(r"<link[^>]+href=\"http", page)
    assert "plotly.js v" in page or "plotly.js" in page
    assert page.count("Plotly.newPlot") == 3  # loss, accuracy, confusion matrix
    # The test accuracy (4 of 6) and the confusion-matrix counts are in the page.
    assert f"{result['metrics']['test']['accuracy']:.4f}" == "0.6667" and "0.6667" in page
    assert json.dumps(result["metrics"]["test"]["confusion_matrix"]).replace(" ", "") in page.replace(" ", "")
    # User data is escaped, the column choice is explained.
    assert "3 duplicate rows &lt;b&gt;" in page and "review" in page and "few distinct values" in page
    assert not list((tmp_path / "run1").glob(".report-*"))


def test_report_of_a_tune_folder_plots_the_search(tmp_path):
    best = tmp_path / "tune" / "trials" / "001"
    _write_run(best, "b")
    tune = tmp_path / "tune"
    _write_run(tune / "final", "b")
    for name in ("result.json", "params.json"):
        (tune / name).write_text((best / name).read_text())
    trials = [{"number": 0, "state": "COMPLETE", "value": 0.61, "params": {"strategy": "head-only"}, "seconds": 3.0},
              {"number": 1, "state": "COMPLETE", "value": 0.83, "params": {"strategy": "lora"}, "seconds": 4.0},
              {"number": 2, "state": "PRUNED", "value": None, "params": {"strategy": "full"}, "seconds": 1.0}]
    (tune / "hpo.json").write_text(json.dumps({"backend": "optuna", "metric": "accuracy", "direction": "maximize",
                                               "best_trial": 1, "best_value": 0.83, "best_run": str(best),
                                               "trials": trials}))
    page = render_report(tune)
    assert 'id="hpo"' in page and "2 trials finished, 1 pruned" in page
    assert 'id="learning-curves"' in page  # read from the best trial's metrics.jsonl
    assert "best value 0.8300 in trial 1" in " ".join(page.split())


def test_report_refuses_a_folder_that_is_not_a_run(tmp_path):
    with pytest.raises(InputError, match="not a run folder"):
        render_report(tmp_path)


def test_runs_lists_runs_newest_first_with_metrics(tmp_path, capsys):
    import os
    import time

    _write_run(tmp_path / "old", "a", seconds=30.0, strategy="full")
    _write_run(tmp_path / "new", "b", seconds=5.0)
    (tmp_path / "new" / "trials" / "000").mkdir(parents=True)  # trials are hidden unless asked
    _write_run(tmp_path / "new" / "trials" / "000" / "x", "a")
    past = time.time() - 3600
    os.utime(tmp_path / "old" / "result.json", (past, past))
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "result.json").write_text("{not json")

    rows = list_runs(tmp_path)
    assert [r["name"] for r in rows] == ["new", "old"]
    assert rows[0]["strategy"] == "lora" and rows[0]["test"] == pytest.approx(1.0)
    assert rows[1]["test"] == pytest.approx(4 / 6) and rows[1]["seconds"] == 30.0
    assert rows[1]["model"] == str(tmp_path / "old" / "model")
    assert len(list_runs(tmp_path, include_trials=True)) == 3

    run(["runs", str(tmp_path), "--json"])  # returns normally on success
    listed = json.loads(capsys.readouterr().out)
    assert [r["name"] for r in listed] == ["new", "old"]


def test_runs_names_a_missing_folder(tmp_path, capsys):
    with pytest.raises(SystemExit) as info:
        run(["runs", str(tmp_path / "nope")])
    assert info.value.code == 2
    assert "nope not found" in capsys.readouterr().err


def test_report_explains_a_few_texts_with_the_runs_model(tmp_path, tiny_classifier_dir):
    import shutil

    _write_run(tmp_path / "run")
    shutil.rmtree(tmp_path / "run" / "model")
    shutil.copytree(tiny_classifier_dir, tmp_path / "run" / "model")
    page = render_report(tmp_path / "run", explain_texts=["great phone", "awful soup"])
    assert 'id="explanations"' in page
    assert "great" in page.split('id="explanations"')[1] and "awful" in page.split('id="explanations"')[1]
