"""Model folders are self-describing: tamellm's own architectures register where a folder is read,
and an adapter folder finds its base model without the creator's absolute paths."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tamellm.errors import ModelFormatError, ModelNotFoundError
from tamellm.models.folder import CUSTOM_ARCHITECTURES
from tamellm.models.peft_loader import BASE_DIR, base_folder
from tamellm.training.artifact import portable_base


@pytest.fixture(params=["tiny_sentence_dir", "tiny_mpnet_sentence_dir"])
def mean_pooling_dir(request, tmp_path, bert_tokenizer):
    """A saved mean-pooling classifier folder (what head-only / few-shot write on a sentence-transformers base),
    for each encoder family tamellm mean-pools (BERT, MPNet)."""
    from tamellm.models.mean_pooling import build_mean_pooling_classifier

    model = build_mean_pooling_classifier(request.getfixturevalue(request.param), True, num_labels=2,
                                          id2label={0: "negative", 1: "positive"},
                                          label2id={"negative": 0, "positive": 1})
    folder = tmp_path / "mean-pooling"
    model.save_pretrained(folder, safe_serialization=True)
    bert_tokenizer.save_pretrained(folder)
    return folder


def test_custom_architectures_name_the_registered_types():
    from tamellm.models.mean_pooling import MODEL_TYPES

    assert set(MODEL_TYPES) <= set(CUSTOM_ARCHITECTURES)


# Each reader calls transformers on the folder without going through tamellm.load first.
READERS = {
    "loader": "from tamellm.models.loaders import LOADERS; from tamellm.models.resolve import resolve; "
              "r = resolve(p); print(type(LOADERS[r.kind](r).model).__name__)",
    "compress": "from tamellm.compression.folders import load_source; "
                "print(type(load_source(p, 'x')[0].model).__name__)",
    "measure": "from tamellm.compression.measure import load_task; print(load_task(p).predict('fine').label)",
}


@pytest.mark.parametrize("reader", sorted(READERS))
def test_a_mean_pooling_folder_is_read_in_a_new_process_by_every_reader(mean_pooling_dir, reader):
    code = f"from pathlib import Path; p = Path({str(mean_pooling_dir)!r}); {READERS[reader]}"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert proc.returncode == 0, proc.stderr[-2000:]
    names = {"MeanPoolingBertForSequenceClassification", "MeanPoolingMPNetForSequenceClassification"}
    assert proc.stdout.strip() in names | {"negative", "positive"}


def test_adapter_base_is_found_inside_the_folder_first(tmp_path, tiny_bert_dir):
    (tmp_path / BASE_DIR).mkdir()
    manifest = {"base_model_path": BASE_DIR, "base_model": str(tiny_bert_dir)}
    assert base_folder(tmp_path, manifest) == tmp_path / BASE_DIR


def test_an_old_absolute_base_path_is_used_while_it_exists(tmp_path, tiny_bert_dir):
    assert base_folder(tmp_path, {"base_model_path": str(tiny_bert_dir), "base_model": "nowhere"}) == tiny_bert_dir
    moved = {"base_model_path": str(tmp_path / "gone"), "base_model": str(tiny_bert_dir)}
    assert base_folder(tmp_path, moved) == tiny_bert_dir.resolve()  # falls back to the recorded name


def test_a_missing_base_names_the_base_and_the_recorded_path(tmp_path):
    with pytest.raises(ModelNotFoundError) as info:
        base_folder(tmp_path, {"base_model_path": "/creator/.venv/base", "base_model": "not-a-model"})
    assert "not-a-model" in info.value.message and "/creator/.venv/base" in info.value.message
    with pytest.raises(ModelFormatError, match="does not say which base model"):
        base_folder(tmp_path, {})


def _adapter_folder(tmp_path):
    folder = tmp_path / "adapter"
    folder.mkdir()
    (folder / "adapter_config.json").write_text(json.dumps({"base_model_name_or_path": "/creator/base"}))
    return folder


def test_a_catalog_base_is_recorded_by_name_only(tmp_path):
    folder = _adapter_folder(tmp_path)
    manifest = portable_base({"kind": "peft", "base_model": "minilm-l6", "base_model_path": "/creator/.venv/x"},
                             folder)
    assert manifest == {"kind": "peft", "base_model": "minilm-l6"} and not (folder / BASE_DIR).exists()
    assert json.loads((folder / "adapter_config.json").read_text())["base_model_name_or_path"] == "minilm-l6"


def test_any_other_base_is_copied_into_the_folder(tmp_path, tiny_bert_dir):
    folder = _adapter_folder(tmp_path)
    manifest = portable_base({"kind": "peft", "base_model": str(tiny_bert_dir),
                              "base_model_path": str(tiny_bert_dir)}, folder)
    assert manifest["base_model_path"] == BASE_DIR
    assert {p.name for p in (folder / BASE_DIR).iterdir()} == {"config.json", "model.safetensors"}
    assert base_folder(folder, manifest) == folder / BASE_DIR
