"""Offline-first resolution: a folder, then a catalog name, then (only when allowed) a hub id."""

from __future__ import annotations

import shutil

import pytest

import tamellm
from tamellm.errors import InputError, ModelNotFoundError
from tamellm.models import CATALOG, ModelSpec, resolve
from tamellm.models.resolve import _resolve_catalog, network_allowed
from tamellm.tasks.embed import EmbeddingModel
from tamellm.tasks.generate import Generator
from tamellm.tasks.ner import TokenClassifierRecognizer
from tamellm.tasks.text_classification import TextClassifier
from tamellm.tasks.zero_shot import ZeroShotClassifier


def test_folder_beats_catalog_name(tiny_bert_dir, tmp_path, monkeypatch):
    shutil.copytree(tiny_bert_dir, tmp_path / "minilm-l6")
    monkeypatch.chdir(tmp_path)
    resolved = resolve("minilm-l6")
    assert resolved.source == "folder"
    assert resolved.path == (tmp_path / "minilm-l6").resolve()
    assert (resolved.kind, resolved.task) == ("encoder", "embed")


def test_catalog_name_resolves_to_the_installed_package(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no folder of that name here
    resolved = resolve("minilm-l6")
    assert resolved.source == "catalog"
    assert resolved.spec is CATALOG["minilm-l6"]
    assert (resolved.kind, resolved.task) == ("encoder", "embed")
    assert (resolved.path / "config.json").is_file()


def test_unknown_name_says_what_where_and_suggests(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ModelNotFoundError) as err:
        resolve("minilm-l7")
    message = str(err.value)
    assert "'minilm-l7' not found" in message
    assert "Did you mean 'minilm-l6'?" in message
    assert str(tmp_path / "minilm-l7") in message  # the folder it looked for
    assert "catalog" in message and "smollm2-135m-instruct" in message
    assert "tamellm models" in message  # how to see what is installed
    assert err.value.exit_code == 3


def test_far_name_gets_no_suggestion(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ModelNotFoundError) as err:
        resolve("zzzz")
    assert "Did you mean" not in str(err.value)


def test_hub_id_with_network_off_says_how_to_allow_it(monkeypatch):
    monkeypatch.delenv("TAMELLM_ALLOW_NETWORK", raising=False)
    with pytest.raises(ModelNotFoundError) as err:
        resolve("someone/some-model")
    assert "TAMELLM_ALLOW_NETWORK" in str(err.value)
    assert "allow_network=True" in str(err.value)


def test_explicit_allow_network_false_wins_over_the_environment(monkeypatch):
    monkeypatch.setenv("TAMELLM_ALLOW_NETWORK", "1")
    assert network_allowed() is True
    assert network_allowed(False) is False
    with pytest.raises(ModelNotFoundError, match="TAMELLM_ALLOW_NETWORK"):
        resolve("someone/some-model", allow_network=False)


def test_empty_name_and_file_path_are_refused(tmp_path):
    with pytest.raises(ModelNotFoundError, match="No model given"):
        resolve("  ")
    a_file = tmp_path / "weights.safetensors"
    a_file.write_bytes(b"x")
    with pytest.raises(ModelNotFoundError, match="is a file, not a folder"):
        resolve(a_file)


def test_catalog_model_whose_package_is_missing_says_how_to_install():
    spec = ModelSpec(
        name="ghost", role="test", task="embed", kind="encoder", params="1M", license="MIT",
        package="ghost-model-pkg", module="tamellm_ghost_model_pkg",
        install="pip install ghost-model-pkg==1.0",
    )
    with pytest.raises(ModelNotFoundError) as err:
        _resolve_catalog(spec)
    assert "ghost-model-pkg" in str(err.value)
    assert err.value.hint == "install it with: pip install ghost-model-pkg==1.0"


@pytest.mark.parametrize(
    ("fixture", "task", "kind", "cls"),
    [
        ("tiny_bert_dir", "embed", "encoder", EmbeddingModel),
        ("tiny_classifier_dir", "classify", "transformers", TextClassifier),
        ("tiny_ner_dir", "ner", "transformers", TokenClassifierRecognizer),
        ("tiny_gpt2_dir", "generate", "transformers", Generator),
    ],
)
def test_load_returns_the_task_class_of_the_folder(request, fixture, task, kind, cls):
    folder = request.getfixturevalue(fixture)
    model = tamellm.load(folder)
    assert type(model) is cls
    assert model.task == task
    assert model.info() == {"name": folder.name, "task": task, "kind": kind, "path": str(folder.resolve())}
    assert tamellm.load(str(folder)) is model  # loaded once, reused


def test_load_with_task_override_and_refusals(tiny_bert_dir):
    assert type(tamellm.load(tiny_bert_dir, task="zero-shot-classification")) is ZeroShotClassifier
    with pytest.raises(InputError, match="cannot run on a model of kind 'encoder'"):
        tamellm.load(tiny_bert_dir, task="classify")
    with pytest.raises(InputError, match="Unknown task 'nonsense'"):
        tamellm.load(tiny_bert_dir, task="nonsense")


def test_a_run_folder_resolves_to_its_model(tmp_path, tiny_classifier_dir):
    import shutil

    run_dir = tmp_path / "runs" / "sentiment-1"
    shutil.copytree(tiny_classifier_dir, run_dir / "model")
    (run_dir / "result.json").write_text("{}")
    resolved = resolve(run_dir)
    assert resolved.path == (run_dir / "model").resolve()
    assert resolved.name == "sentiment-1" and resolved.task == "classify"
