"""AutoTune on images: `tamellm train --data images/` infers image classification from a folder per class
and searches head-only against full fine-tuning of EfficientNet-Lite0 with the image task's own ranges."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import optuna
import pytest
from test_image_classification import image_folder

import tamellm
from tamellm.tuning.job import job_config
from tamellm.tuning.search_space import build_search_space

TAMELLM = Path(sys.executable).parent / "tamellm"


@pytest.fixture(scope="module")
def squares(tmp_path_factory) -> Path:
    return image_folder(tmp_path_factory.mktemp("tune-squares") / "images", 8, 6)


def test_a_folder_of_class_folders_is_image_classification_with_its_own_ranges(squares, tmp_path):
    job = job_config(squares)
    assert job.task == "image-classify"
    table = tmp_path / "t.csv"
    table.write_text("text,label\ngood,pos\nbad,neg\n")
    assert job_config(table).task == "classify"  # tables name no task: text stays the default
    assert job_config(squares, task="classify").task == "classify"  # what the user says wins
    space = build_search_space(job)
    assert space.strategies == ["head-only", "full"] and space.task == "image-classify"
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    ranges = {"head-only": (1e-3, 3e-2), "full": (5e-5, 1e-3)}
    seen = set()
    for _ in range(40):
        params = space.suggest(study.ask())
        low, high = ranges[params["strategy"]]
        assert low <= params["learning_rate"] <= high
        seen.add(params["strategy"])
    assert seen == {"head-only", "full"}


def test_train_with_a_tiny_budget_chooses_between_head_only_and_full(squares, tmp_path):
    out = tmp_path / "run"
    # two trials bound the time; the budget only has to leave room for both on a busy machine
    done = subprocess.run([str(TAMELLM), "train", "--data", str(squares), "--budget", "5m", "--trials", "2",
                           "--epochs", "1", "--output", str(out), "--json"], capture_output=True, text=True,
                          timeout=600, env={**os.environ, "TAMELLM_TRACKING": "0"})
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    trials = [t for t in result["trials"] if t["state"] == "COMPLETE"]
    assert {t["params"]["strategy"] for t in trials} == {"head-only", "full"}
    best = max(trials, key=lambda t: t["value"])
    assert result["best_value"] == best["value"]
    hpo = json.loads((out / "hpo.json").read_text())
    assert hpo["search_space"]["task"] == "image-classify"
    assert hpo["best_params"]["strategy"] in {"head-only", "full"}
    model = tamellm.load(out / "model")
    assert model.task == "image-classify"
    assert model.predict(str(next((squares / "left").iterdir()))).label in {"left", "right"}
