"""``tamellm eval`` and ``tamellm predict`` through the real entry point, on a tiny classifier."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from test_cli_core import invoke

import tamellm

TEXTS = ["great phone", "awful soup", "the battery lasts all day", "far too long and boring"]


def test_eval_json_matches_the_models_predictions(tmp_path, capsys, tiny_classifier_dir):
    predicted = [r.label for r in tamellm.classify(TEXTS, model=tiny_classifier_dir)]
    path = tmp_path / "dev.csv"
    pd.DataFrame({"sentence": TEXTS, "sentiment": predicted}).to_csv(path, index=False)
    code, out, _ = invoke(capsys, "eval", str(tiny_classifier_dir), "--data", str(path), "--json")
    assert code == 0
    result = json.loads(out)
    assert result["accuracy"] == 1.0 and result["macro_f1"] > 0
    assert result["columns"]["text"] == "sentence" and result["columns"]["label"] == "sentiment"

    code, out, _ = invoke(capsys, "eval", str(tiny_classifier_dir), "--data", str(path))
    assert code == 0 and "accuracy" in out and "per class" in out and "confusion matrix" in out


def test_eval_bad_label_column_names_it_and_the_columns(tmp_path, capsys, tiny_classifier_dir):
    path = tmp_path / "dev.csv"
    pd.DataFrame({"text": TEXTS, "label": ["positive"] * 4}).to_csv(path, index=False)
    code, _, err = invoke(capsys, "eval", str(tiny_classifier_dir), "--data", str(path), "--label-column", "stars")
    assert code == 2
    assert "'stars' not found" in err and "'label'" in err


def test_predict_writes_the_csv(tmp_path, capsys, tiny_classifier_dir):
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join(json.dumps({"text": t}) for t in TEXTS), encoding="utf-8")
    out_path = tmp_path / "preds.csv"
    code, out, _ = invoke(capsys, "predict", str(tiny_classifier_dir), "--data", str(source), "--output",
                          str(out_path), "--json")
    assert code == 0 and json.loads(out)["rows"] == 4
    frame = pd.read_csv(out_path)
    expected = tamellm.classify(TEXTS, model=tiny_classifier_dir)
    assert frame["label"].tolist() == [r.label for r in expected]
    assert frame["score_positive"].tolist() == pytest.approx([r.scores["positive"] for r in expected], abs=1e-6)


def test_predict_missing_file_is_a_clear_error(tmp_path, capsys, tiny_classifier_dir):
    code, _, err = invoke(capsys, "predict", str(tiny_classifier_dir), "--data", str(tmp_path / "nope.csv"))
    assert code == 2 and "nope.csv" in err
