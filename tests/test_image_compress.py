"""`tamellm compress` on an image classifier folder: ONNX static int8 under the same accuracy guard as text.

A tiny EfficientNet-Lite0 head is trained here on rendered squares (left / right); the command runs in
a new process as users run it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from test_image_classification import image_folder

import tamellm
from tamellm.errors import InputError

TAMELLM = Path(sys.executable).parent / "tamellm"


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("compress-squares")
    data = {"train": image_folder(root / "train", 8, 3), "test": image_folder(root / "test", 6, 4)}
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TAMELLM_TRACKING", "0")
        run = tamellm.train(data["train"], task="image-classify", strategy="head-only", run_dir=root / "run",
                            epochs=2, seed=0, config={"data": {"val_size": 0.25}})
    return run.model_dir, data


def test_compress_an_image_model_with_the_accuracy_guard(trained, tmp_path):
    model_dir, data = trained
    out = tmp_path / "small"
    done = subprocess.run([str(TAMELLM), "compress", str(model_dir), "--data", str(data["test"]), "--train-data",
                           str(data["train"]), "--methods", "onnx-int8,dynamic-int8", "--max-drop", "0.1",
                           "--output", str(out), "--json"], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    rows = {row["method"]: row for row in result["candidates"]}
    assert set(rows) == {"original", "onnx-int8"}
    # the text-only method is reported, not run
    assert [f["method"] for f in result["failed"]] == ["dynamic-int8"]
    # the guard: within budget exactly when int8 kept accuracy within --max-drop of the original
    assert result["within_budget"] == (rows["onnx-int8"]["accuracy"] >= rows["original"]["accuracy"] - 0.1)
    assert result["chosen"] == "onnx-int8" and result["path"] == str(out)
    assert json.loads((out / "tamellm.json").read_text())["kind"] == "image-onnx"
    assert (out / "candidates.md").read_text().count("| onnx-int8 |") == 1
    # the written folder loads and scores on the test images what the table says it scored
    tests = [str(p) for p in sorted(data["test"].rglob("*.png"))]
    labels = [Path(p).parent.name for p in tests]
    int8 = [r.label for r in tamellm.load(out).predict(tests)]
    assert sum(a == b for a, b in zip(int8, labels, strict=True)) / len(tests) == pytest.approx(
        rows["onnx-int8"]["accuracy"], abs=1e-3)

def test_text_only_methods_and_foreign_labels_are_refused(trained, tmp_path):
    model_dir, data = trained
    with pytest.raises(InputError, match="None of the methods asked for applies to an image classifier"):
        tamellm.compress(model_dir, data["test"], methods="prune-magnitude,distill", output=tmp_path / "x")
    with pytest.raises(InputError, match="Unknown compression method 'int3'"):
        tamellm.compress(model_dir, data["test"], methods="int3", output=tmp_path / "x")
    other = image_folder(tmp_path / "other", 1, 5)
    (other / "left").rename(other / "up")
    with pytest.raises(Exception, match="label\\(s\\) up are not the model's labels"):
        tamellm.compress(model_dir, other, methods="onnx-int8", output=tmp_path / "y")


def test_the_default_plan_keeps_a_copy_with_the_original_accuracy(trained, tmp_path):
    """fp32 ONNX is always a candidate: with no accuracy to give away, the guard still has one within budget."""
    model_dir, data = trained
    result = tamellm.compress(model_dir, data["test"], max_drop=0.0, output=tmp_path / "safe", repeats=1)
    rows = {m.method: m for m in result.candidates}
    assert set(rows) == {"onnx-int8", "onnx-fp32"}
    assert rows["onnx-fp32"].accuracy == result.baseline.accuracy  # the same weights on ONNX Runtime
    assert result.within_budget and rows[result.chosen].accuracy >= result.baseline.accuracy
