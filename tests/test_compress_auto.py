"""Auto-compress through the public API and the CLI on a tiny classifier."""

from __future__ import annotations

import csv
import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest
from test_compress_methods import LABELS, TEXTS

import tamellm
from tamellm.compression.auto import _choose
from tamellm.compression.measure import Measurement
from tamellm.errors import DataError, InputError


def write_labelled(path: Path, texts: list[str], labels: list) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label"])
        writer.writerows(zip(texts, labels, strict=True))
    return path


def _digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()}


@pytest.fixture
def dev_csv(tmp_path) -> Path:
    return write_labelled(tmp_path / "dev.csv", TEXTS, ["positive" if y else "negative" for y in LABELS])


def test_auto_compress_picks_the_fastest_inside_the_budget(tiny_classifier_dir, dev_csv, tmp_path):
    before = _digest(tiny_classifier_dir)
    out = tmp_path / "small"
    result = tamellm.compress(tiny_classifier_dir, dev_csv, max_drop=1.0, output=out, repeats=1, latency_texts=4,
                              methods=["dynamic-int8", "onnx-int8", "distill", "prune-structured+onnx-int8"])
    assert _digest(tiny_classifier_dir) == before  # the original is never written to
    assert result.path == out.resolve() and result.within_budget and result.warning is None
    methods = [c.method for c in result.candidates]
    assert methods == ["dynamic-int8", "onnx-int8", "prune-structured+onnx-int8"]
    # Distillation was asked for without training data: listed as not applicable, with why.
    assert [f["method"] for f in result.failed] == ["distill"] and "training texts" in result.failed[0]["error"]
    assert result.chosen == max(result.candidates, key=lambda c: c.throughput).method
    for c in result.candidates:
        assert c.size_bytes > 0 and 0 <= c.accuracy <= 1 and c.latency_p95_ms >= c.latency_p50_ms > 0
    table = json.loads((out / "candidates.json").read_text())
    assert table["chosen"] == result.chosen and len(table["candidates"]) == 3
    assert "| original |" in (out / "candidates.md").read_text()
    assert not (out / ".candidates").exists()
    # The output is a normal model folder: load, predict, explain and serve work on it.
    predictions = tamellm.classify(TEXTS, model=out)
    assert [p.label for p in predictions] and all(p.label in ("negative", "positive") for p in predictions)
    assert tamellm.load(out).predict(TEXTS[0]).label == predictions[0].label
    why = tamellm.explain(TEXTS[0], model=out)
    assert why.label == predictions[0].label and [w.word for w in why.words][:3] == ["This", "phone", "is"]
    from fastapi.testclient import TestClient

    with TestClient(tamellm.create_app([str(out)])) as client:
        served = client.post("/v1/classify", json={"input": TEXTS[:2]}).json()["data"]
        assert [d["label"] for d in served] == [p.label for p in predictions[:2]]
        explained = client.post("/v1/explain", json={"input": TEXTS[0]})
        assert explained.status_code == 200, explained.text
        assert explained.json()["explanation"]["label"] == predictions[0].label


def test_auto_compress_distils_when_given_training_data(tiny_classifier_dir, dev_csv, tmp_path):
    out = tmp_path / "student"
    result = tamellm.compress(tiny_classifier_dir, dev_csv, max_drop=1.0, output=out, train_data=dev_csv,
                              methods="distill", repeats=1, latency_texts=2,
                              params={"distill": {"layers": 1, "max_steps": 2, "batch_size": 4}})
    assert result.chosen == "distill"
    manifest = json.loads((out / "tamellm.json").read_text())
    assert manifest["compress"]["student_layers"] == 1 and manifest["compress_choice"]["method"] == "distill"


def test_budget_no_candidate_meets_returns_the_most_accurate_with_a_warning(tmp_path):
    def m(method, accuracy, throughput):
        return Measurement(method, "", 100, accuracy, 1.0, 2.0, throughput)

    result = _choose(tmp_path, m("original", 0.90, 100), [m("fast", 0.80, 900), m("careful", 0.85, 300)], [], 0.01)
    assert result.chosen == "careful" and not result.within_budget
    assert "No candidate kept accuracy within 0.010" in result.warning and "careful" in result.warning
    inside = _choose(tmp_path, m("original", 0.90, 100), [m("fast", 0.895, 900), m("slow", 0.9, 300)], [], 0.01)
    assert inside.chosen == "fast" and inside.within_budget


def test_bad_input_is_refused_before_any_work(tiny_classifier_dir, dev_csv, tmp_path):
    with pytest.raises(InputError, match="would overwrite or contain the original"):
        tamellm.compress(tiny_classifier_dir, dev_csv, output=tiny_classifier_dir / "inside")
    with pytest.raises(InputError, match="Unknown compression method 'onnx-int4'"):
        tamellm.compress(tiny_classifier_dir, dev_csv, methods=["onnx-int4"], output=tmp_path / "o")
    with pytest.raises(InputError, match="max_drop"):
        tamellm.compress(tiny_classifier_dir, dev_csv, max_drop=5, output=tmp_path / "o")
    bad = write_labelled(tmp_path / "bad.csv", TEXTS, ["good"] * len(TEXTS))
    with pytest.raises(DataError, match="label 'good'"):
        tamellm.compress(tiny_classifier_dir, bad, output=tmp_path / "o", methods="dynamic-int8")
    assert not (tmp_path / "o").exists()


def test_cli_compress_prints_the_candidates_table_as_json(tiny_classifier_dir, dev_csv, tmp_path):
    out = tmp_path / "cli-out"
    proc = subprocess.run(
        [sys.executable, "-m", "tamellm.cli.main", "compress", str(tiny_classifier_dir), "--data", str(dev_csv),
         "--methods", "dynamic-int8,onnx-fp32", "--max-drop", "1", "--output", str(out), "--json"],
        capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    payload = json.loads(proc.stdout)
    assert payload["chosen"] in ("dynamic-int8", "onnx-fp32") and payload["path"] == str(out.resolve())
    rows = {row["method"]: row for row in payload["candidates"]}
    assert set(rows) == {"original", "dynamic-int8", "onnx-fp32"}
    assert set(rows["original"]) >= {"size_bytes", "latency_p50_ms", "throughput_per_s", "accuracy", "chosen"}
    assert sum(row["chosen"] for row in rows.values()) == 1


def test_cli_compress_names_a_missing_data_file(tiny_classifier_dir, dev_csv, tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "tamellm.cli.main", "compress", str(tiny_classifier_dir), "--data",
         str(tmp_path / "missing.csv"), "--output", str(tmp_path / "o")],
        capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "missing.csv" in proc.stderr
