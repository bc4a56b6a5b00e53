"""Adding a task is one declaration: a toy task registered here runs through predict, evaluate and serve.

The same toy task, shipped as a separate package that names its ``TaskSpec`` in the
``tamellm_tasks`` entry points, works in a new ``tamellm`` process without tamellm
importing it by name.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest
from fastapi.testclient import TestClient

import tamellm
from tamellm.tasks import TASKS, TaskModel, clear_cache, register_task

TOY_MODULE = '''
"""A toy task: flag the texts that contain one of the keywords in the model folder's tamellm.json."""

from tamellm.inputs import as_text_list
from tamellm.results import Classification
from tamellm.tasks import TaskModel, TaskSpec


class KeywordFlagger(TaskModel):
    labels = ["flagged", "clear"]

    def predict(self, inputs, batch_size=64):
        texts, single = as_text_list(inputs)
        keywords = self.loaded.resolved.info.manifest["keywords"]
        results = []
        for text in texts:
            hit = any(k in text.lower() for k in keywords)
            results.append(Classification(text, "flagged" if hit else "clear",
                                          {"flagged": float(hit), "clear": float(not hit)}))
        return results[0] if single else results


SPEC = TaskSpec(name="keyword-flag", description="flag texts that mention a keyword",
                models={"encoder": KeywordFlagger}, data_schema="text-label", evaluator="classify")
'''

TEXTS = ["the refund never arrived", "lovely weather today", "I want a REFUND now", "see you at lunch"]
LABELS = ["flagged", "clear", "flagged", "flagged"]  # the last one is wrong on purpose: accuracy 0.75


@pytest.fixture()
def toy_folder(tmp_path, tiny_bert_dir) -> Path:
    folder = tmp_path / "toy-model"
    shutil.copytree(tiny_bert_dir, folder)
    manifest = {"task": "keyword-flag", "kind": "encoder", "keywords": ["refund"]}
    (folder / "tamellm.json").write_text(json.dumps(manifest), encoding="utf-8")
    return folder


@pytest.fixture()
def labelled(tmp_path) -> Path:
    path = tmp_path / "labelled.csv"
    pd.DataFrame({"text": TEXTS, "label": LABELS}).to_csv(path, index=False)
    return path


@pytest.fixture()
def toy_task():
    namespace: dict = {}
    exec(compile(TOY_MODULE, "toy_task", "exec"), namespace)
    spec = register_task(namespace["SPEC"])
    yield spec
    TASKS.unregister(spec.name)
    clear_cache()


def test_a_task_registered_in_one_declaration_predicts_evaluates_and_serves(toy_task, toy_folder, labelled):
    model = tamellm.load(toy_folder)
    assert model.task == "keyword-flag" and isinstance(model, TaskModel)
    assert [r.label for r in model.predict(TEXTS)] == ["flagged", "clear", "flagged", "clear"]

    metrics = tamellm.evaluate(toy_folder, labelled)
    assert metrics["task"] == "keyword-flag"
    assert metrics["accuracy"] == pytest.approx(0.75)

    with TestClient(tamellm.create_app([str(toy_folder)], backend="transformers")) as client:
        listed = client.get("/v1/models").json()["data"]
        assert [m["id"] for m in listed] == ["toy-model"]
        reply = client.post("/v1/predict", json={"input": TEXTS[:2]})
        assert reply.status_code == 200, reply.text
        body = reply.json()
        assert body["task"] == "keyword-flag"
        assert [item["label"] for item in body["data"]] == ["flagged", "clear"]
        wrong = client.post("/v1/predict", json={"input": "x", "task": "ner"})
        assert wrong.status_code == 400 and "keyword-flag" in wrong.text


def test_an_unknown_task_lists_the_known_ones(toy_folder):
    with pytest.raises(tamellm.TamellmError, match="Unknown task 'keyword-flag'") as caught:
        tamellm.load(toy_folder)
    assert "classify" in caught.value.hint


def _plugin(root: Path) -> Path:
    """A separate installed package (a module and its dist-info) that adds the toy task by entry point."""
    root.mkdir()
    (root / "toy_task_plugin.py").write_text(textwrap.dedent(TOY_MODULE), encoding="utf-8")
    info = root / "toy_task_plugin-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: toy-task-plugin\nVersion: 0.1\n", encoding="utf-8")
    (info / "entry_points.txt").write_text("[tamellm_tasks]\nkeyword-flag = toy_task_plugin:SPEC\n",
                                           encoding="utf-8")
    return root


def test_a_task_from_another_package_works_in_a_new_process(tmp_path, toy_folder, labelled, monkeypatch):
    plugin = _plugin(tmp_path / "site")
    monkeypatch.setenv("PYTHONPATH", str(plugin))

    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "tamellm.cli.main", *args], capture_output=True, text=True,
                              timeout=120)

    evaluated = cli("eval", str(toy_folder), "--data", str(labelled), "--json")
    assert evaluated.returncode == 0, evaluated.stderr
    assert json.loads(evaluated.stdout)["accuracy"] == pytest.approx(0.75)

    predicted = cli("predict", str(toy_folder), "--data", str(labelled), "--output", str(tmp_path / "preds.csv"))
    assert predicted.returncode == 0, predicted.stderr
    assert pd.read_csv(tmp_path / "preds.csv")["label"].tolist() == ["flagged", "clear", "flagged", "clear"]
