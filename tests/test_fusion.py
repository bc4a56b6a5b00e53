"""Image + text fusion on pairs made here: the label needs both the picture and the words.

A dark square on the left or the right (only the image tells) and a sentence about an animal
or a vehicle (only the text tells): four classes. Each modality alone can reach at most half
of them; the fused head must beat both. Real frozen encoders (EfficientNet-Lite0, MiniLM).
"""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest

import tamellm
from tamellm.errors import DataError
from tamellm.training.resources import TrainResources

ANIMALS = ["A small cat sleeps on the sofa.", "The dog barks at the mailman.", "A horse runs across the field.",
           "The parrot repeats every word.", "A rabbit hides in the garden.", "The cow grazes near the barn."]
VEHICLES = ["The truck delivers the parcels.", "A red car waits at the light.", "The train leaves the station.",
            "A bus stops near the school.", "The motorbike speeds down the road.", "A tractor ploughs the land."]


def square_image(path, side: str, seed: int):
    """A light noisy 64 px picture with a dark 24 px square in its left or right half."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    pixels = rng.integers(200, 255, size=(64, 64, 3), dtype=np.uint8)
    top = int(rng.integers(4, 36))
    left = int(rng.integers(2, 8)) if side == "left" else int(rng.integers(32, 38))
    pixels[top:top + 24, left:left + 24] = rng.integers(0, 40, size=(24, 24, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(path)
    return path


def pairs(folder, per_class: int, seed: int):
    folder.mkdir(parents=True)
    rows = []
    for side in ("left", "right"):
        for topic, sentences in (("animal", ANIMALS), ("vehicle", VEHICLES)):
            for i in range(per_class):
                image = square_image(folder / f"{side}-{topic}-{i}.png", side, seed * 1000 + len(rows))
                rows.append({"image": image.name, "text": sentences[(i + seed) % len(sentences)],
                             "label": f"{side}-{topic}"})
    path = folder / "pairs.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp("pairs")
    return pairs(root / "train", 8, 1), pairs(root / "test", 3, 2)


def test_fusion_beats_each_modality_alone(data, tmp_path, monkeypatch):
    monkeypatch.setenv("TAMELLM_TRACKING", "0")  # four short runs: no MLflow / TensorBoard stores
    train, test = data
    shared = TrainResources(shared=True)  # the pairs are encoded once for the four runs
    runs = {(mode, modalities): tamellm.train_fusion(train, mode=mode, modalities=modalities, test=test, seed=0,
                                                     run_dir=tmp_path / f"{mode}-{modalities}", resources=shared)
            for mode, modalities in (("concat", "both"), ("gated", "both"), ("concat", "image"), ("concat", "text"))}
    accuracy = {key: run.metrics["test"]["accuracy"] for key, run in runs.items()}
    alone = max(accuracy[("concat", "image")], accuracy[("concat", "text")])
    assert alone <= 0.75  # one modality cannot tell the four classes apart
    assert accuracy[("concat", "both")] >= alone + 0.25 and accuracy[("gated", "both")] >= alone + 0.25

    folder = runs[("concat", "both")].model_dir
    manifest = json.loads((folder / "tamellm.json").read_text())
    assert manifest["task"] == "image-text-classify" and manifest["kind"] == "fusion"
    model = tamellm.load(folder)
    frame = pd.read_csv(test)
    first = frame.iloc[0]
    result = model.predict((str(test.parent / first["image"]), first["text"]))
    assert result.text == first["text"] and set(result.scores) == set(frame["label"])

    # The image network's activation is recorded; a folder written before it was read Swish features.
    config = json.loads((folder / "config.json").read_text())
    assert config["image_activation"] == "relu6" and model.model.encoders["image_activation"] == "relu6"
    legacy = tmp_path / "legacy"
    shutil.copytree(folder, legacy)
    (legacy / "config.json").write_text(json.dumps({k: v for k, v in config.items() if k != "image_activation"}))
    old = tamellm.load(legacy)
    assert old.model.encoders["image_activation"] == "swish"
    assert old.predict((str(test.parent / first["image"]), first["text"])).scores != result.scores


def test_pairs_need_image_text_and_label_columns(tmp_path):
    bad = tmp_path / "bad.csv"
    pd.DataFrame({"image": ["a.png"], "label": ["x"]}).to_csv(bad, index=False)
    with pytest.raises(DataError, match="text column"):
        tamellm.train_fusion(bad, run_dir=tmp_path / "run")
