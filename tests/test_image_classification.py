"""Image classification end to end on pictures made here: a dark square on the left or on the right.

The packaged EfficientNet-Lite0 is fine-tuned (head-only, the default) through the one training
loop, then predicts, evaluates, explains (the heat map must sit on the square), compresses to
int8 and serves. The model is trained once per module.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

import tamellm
from tamellm.cli.main import run
from tamellm.errors import ConfigError, DataError, InputError

SIZE, SQUARE = 64, 24


def square_image(path: Path, side: str, seed: int) -> Path:
    """A light noisy picture with a dark square in its left or right half."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    pixels = rng.integers(200, 255, size=(SIZE, SIZE, 3), dtype=np.uint8)
    top = int(rng.integers(4, SIZE - SQUARE - 4))
    low, high = (2, SIZE // 2 - SQUARE) if side == "left" else (SIZE // 2, SIZE - SQUARE - 2)
    left = int(rng.integers(low, high))
    pixels[top:top + SQUARE, left:left + SQUARE] = rng.integers(0, 40, size=(SQUARE, SQUARE, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(path)
    return path


def image_folder(root: Path, per_class: int, seed: int) -> Path:
    for k, side in enumerate(("left", "right")):
        (root / side).mkdir(parents=True)
        for i in range(per_class):
            square_image(root / side / f"{i}.png", side, seed * 1000 + k * 100 + i)
    return root


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("squares")
    return {"train": image_folder(root / "train", 12, 1), "test": image_folder(root / "test", 6, 2)}


@pytest.fixture(scope="module")
def trained(data, tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("runs") / "image-run"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TAMELLM_TRACKING", "0")
        return tamellm.train(data["train"], task="image-classify", run_dir=run_dir, epochs=2, seed=0,
                             config={"data": {"test": str(data["test"]), "val_size": 0.2}})


def test_training_writes_a_run_and_an_image_model_folder(trained):
    assert trained.params["strategy"] == "head-only"  # what "auto" means for images
    assert trained.metrics["test"]["accuracy"] >= 0.9  # 12 test pictures; the square's side is easy to see
    folder = trained.model_dir
    manifest = json.loads((folder / "tamellm.json").read_text())
    assert manifest["task"] == "image-classify" and manifest["kind"] == "image"
    assert manifest["labels"] == ["left", "right"]
    assert (folder / "model.safetensors").is_file() and not list(folder.glob("*.pth"))
    assert json.loads((trained.run_dir / "result.json").read_text())["task"] == "image-classify"
    assert (trained.run_dir / "metrics.jsonl").is_file()  # the one loop's evaluation log


def test_predict_and_evaluate(trained, data):
    model = tamellm.load(trained.model_dir)
    results = model.predict([str(p) for p in sorted((data["test"] / "left").iterdir())])
    assert [r.label for r in results].count("left") >= 5
    assert abs(sum(results[0].scores.values()) - 1) < 1e-3
    metrics = tamellm.evaluate(trained.model_dir, data["test"])
    assert metrics["task"] == "image-classify" and metrics["accuracy"] >= 0.9 and metrics["images"] == 12


def _fill(image, boxes: list[list[float]]):
    """``image`` with each box painted in the image's mean colour."""
    pixels = np.asarray(image, dtype=np.float32).copy()
    mean = pixels.reshape(-1, 3).mean(0)
    for x0, y0, x1, y1 in boxes:
        pixels[int(y0):int(np.ceil(y1)), int(x0):int(np.ceil(x1))] = mean
    from PIL import Image

    return Image.fromarray(pixels.astype(np.uint8))


def test_the_heat_map_is_faithful(trained, tmp_path):
    """Painting over the cells the heat map ranks highest lowers the label's probability more than painting
    over the cells it ranks lowest (a deletion check on the model itself)."""
    from PIL import Image

    image = square_image(tmp_path / "probe.png", "left", 99)
    explanation = tamellm.explain_image(image, model=trained.model_dir, label="left", heatmap=tmp_path / "heat.png")
    assert explanation.method == "occlusion" and explanation.label == "left"
    assert Image.open(tmp_path / "heat.png").size == (SIZE, SIZE)
    data = explanation.to_dict()
    assert len(data["grid"]) == 14 and len(data["regions"]) == 5
    cells = 7
    ranked = explanation.regions(cells * cells, cells=cells)  # every cell, strongest first, original pixels
    original = Image.open(image).convert("RGB")
    model = tamellm.load(trained.model_dir)
    top = _fill(original, [r["box"] for r in ranked[:6]])
    bottom = _fill(original, [r["box"] for r in ranked[-6:]])
    p_top, p_bottom = (r.scores["left"] for r in model.predict([top, bottom]))
    assert p_top < p_bottom - 0.05
    gradients = tamellm.explain_image(image, model=trained.model_dir, method="integrated-gradients", steps=4)
    assert gradients.heat.shape == (224, 224) and np.isfinite(gradients.heat).all()


def test_int8_copy_agrees_and_serves(trained, data, tmp_path):
    calibration = sorted(data["train"].rglob("*.png"))
    int8 = tamellm.compress_image_model(trained.model_dir, tmp_path / "int8", calibration)
    assert json.loads((int8 / "tamellm.json").read_text())["kind"] == "image-onnx"
    tests = [str(p) for p in sorted(data["test"].rglob("*.png"))]
    fp32 = tamellm.load(trained.model_dir).predict(tests)
    quantized = [r.label for r in tamellm.load(int8).predict(tests)]
    # int8 moves logits by a little: a label the fp32 head gives by a margin stays; a near-tie may flip
    confident = [(r.label, q) for r, q in zip(fp32, quantized, strict=True) if r.score >= 0.6]
    assert len(confident) >= len(tests) // 2 and all(a == b for a, b in confident)

    encoded = base64.b64encode(Path(tests[0]).read_bytes()).decode()
    with TestClient(tamellm.create_app([str(int8)], backend="transformers")) as client:
        reply = client.post("/v1/images/classify", json={"images": [encoded, "data:image/png;base64," + encoded]})
        assert reply.status_code == 200, reply.text
        body = reply.json()
        assert [d["label"] for d in body["data"]] == [quantized[0]] * 2
        assert client.post("/v1/images/classify", json={"images": ["not base64!"]}).status_code == 422
        broken = base64.b64encode(b"\x89PNG\r\n\x1a\nbroken").decode()
        reply = client.post("/v1/images/classify", json={"images": [broken]})
        assert reply.status_code in (400, 422) and "not a readable image" in reply.text


def test_cli_classify_reads_pixels_with_an_image_model(trained, data, capsys):
    image = sorted((data["test"] / "right").iterdir())[0]
    try:
        run(["classify", "--input", str(image), "--model", str(trained.model_dir), "--json"])
    except SystemExit as exc:
        assert exc.code in (0, None)
    [row] = json.loads(capsys.readouterr().out)
    assert row["label"] == "right" and row["text"] == "" and row["source"] == {
        "file": str(image), "kind": "image", "read": "pixels"}


def test_bad_image_data_is_refused_clearly(tmp_path):
    (tmp_path / "only").mkdir()
    for i in range(4):
        square_image(tmp_path / "only" / f"{i}.png", "left", i)
    with pytest.raises(DataError, match="at least two classes"):
        tamellm.train(tmp_path, task="image-classify", run_dir=tmp_path / "r1")
    with pytest.raises(ConfigError, match="cannot train task 'image-classify'"):
        tamellm.train(tmp_path, task="image-classify", strategy="lora", run_dir=tmp_path / "r2")
    csv = tmp_path / "images.csv"
    csv.write_text("path,label\nmissing.png,a\n", encoding="utf-8")
    with pytest.raises(DataError, match="not found"):
        tamellm.train(csv, task="image-classify", run_dir=tmp_path / "r3")
    with pytest.raises(InputError, match="not an image classifier"):
        tamellm.classify_images(str(tmp_path / "only" / "0.png"), model="minilm-l6")
