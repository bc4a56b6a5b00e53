"""`tamellm compress` on an image classifier folder: ONNX static int8 under the same accuracy guard as text.

A tiny EfficientNet-Lite0 head is trained here on rendered squares (left / right); the command runs in
a new process as users run it. The int8 copy of the packaged ImageNet classifier is compared with fp32
logit by logit: a network that quantizes badly shows there long before a 2-class head's accuracy moves.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from test_image_classification import image_folder

import tamellm
from tamellm.errors import InputError
from tamellm.models.image_net import ImageNet, OnnxImageNet, packaged_state_dict, pixels_of, save_image_model

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


def test_int8_copy_of_the_imagenet_classifier_keeps_its_logits(tmp_path):
    """The packaged EfficientNet-Lite0 recognises a real photograph, and its int8 copy keeps its 1000 logits.

    Run with Swish where Lite has ReLU6, the same weights called this temple a stethoscope and the int8
    copy's logits had a cosine of 0.84 to fp32 with 2 of 12 top-1 labels kept (digits fell from 0.54 to 0.195).
    """
    from PIL import Image
    from sklearn.datasets import load_sample_images

    net = ImageNet(1000)
    net.load_state_dict({f"body.{k}": v for k, v in packaged_state_dict().items()})
    net.eval()
    china = Image.fromarray(load_sample_images().images[0])  # scikit-learn's sample photo of a Chinese temple
    china = china.crop(((china.width - china.height) // 2, 0, (china.width + china.height) // 2, china.height))
    with torch.no_grad():
        top5 = net(pixels_of([china])).topk(5).indices[0].tolist()
    assert {698, 663} & set(top5)  # ImageNet's "palace" / "monastery"
    folder = save_image_model(net, tmp_path / "imagenet", [str(i) for i in range(1000)], {})
    calibration = sorted(str(p) for p in image_folder(tmp_path / "calibration", 8, 3).rglob("*.png"))
    int8 = tamellm.compress_image_model(folder, tmp_path / "int8", calibration)  # 16 pictures
    pictures = [Image.open(p) for p in sorted(image_folder(tmp_path / "pictures", 6, 4).rglob("*.png"))] + [china]
    pixels = pixels_of(pictures)
    with torch.no_grad():
        fp32 = net(pixels).numpy()
    quantized = OnnxImageNet(int8)(pixels).numpy()
    cosine = (fp32 * quantized).sum(1) / np.linalg.norm(fp32, axis=1) / np.linalg.norm(quantized, axis=1)
    assert cosine.min() > 0.98, cosine  # 0.997 with ReLU6
    assert (fp32.argmax(1) == quantized.argmax(1)).mean() >= 0.75

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


def test_image_folders_record_their_activation(trained, tmp_path):
    """New folders say ReLU6 (EfficientNet-Lite's own); a folder without the key was built with Swish and keeps it."""
    import shutil

    from tamellm.errors import ModelFormatError
    from tamellm.models.image_net import load_image_net

    model_dir, _ = trained
    assert json.loads((model_dir / "config.json").read_text())["activation"] == "relu6"
    assert isinstance(load_image_net(model_dir)[0].body._blocks[0]._swish, torch.nn.ReLU6)
    old = shutil.copytree(model_dir, tmp_path / "old")
    config = json.loads((old / "config.json").read_text())
    del config["activation"]
    (old / "config.json").write_text(json.dumps(config))
    assert load_image_net(old)[0].activation == "swish"
    (old / "config.json").write_text(json.dumps({**config, "activation": "gelu"}))
    with pytest.raises(ModelFormatError, match="Unknown activation 'gelu'.*accepted: relu6, swish"):
        load_image_net(old)
