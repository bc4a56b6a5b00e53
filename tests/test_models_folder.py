"""inspect_folder: what a model folder holds, which task it serves, and refusing unsound folders."""

from __future__ import annotations

import json
import pickle
import shutil
import struct

import pytest

import tamellm
from tamellm.errors import ModelFormatError
from tamellm.models.folder import check_safetensors, inspect_folder


class _Trap:
    """Unpickling this writes a file: proof that a loader unpickled it."""

    def __init__(self, sentinel: str) -> None:
        self.sentinel = sentinel

    def __reduce__(self):
        return (open, (self.sentinel, "w"))


def _header(header: bytes) -> bytes:
    return struct.pack("<Q", len(header)) + header


def _copy(src, dst):
    shutil.copytree(src, dst)
    return dst


def test_pickle_only_folder_is_refused_without_unpickling(tiny_bert_dir, tmp_path):
    folder = tmp_path / "pickled"
    folder.mkdir()
    shutil.copy(tiny_bert_dir / "config.json", folder)
    sentinel = tmp_path / "unpickled.txt"
    (folder / "pytorch_model.bin").write_bytes(pickle.dumps(_Trap(str(sentinel))))
    with pytest.raises(ModelFormatError) as err:
        tamellm.load(folder)
    assert "pytorch_model.bin" in str(err.value)
    assert "pickle" in str(err.value)
    assert "safe_serialization=True" in err.value.hint
    assert not sentinel.exists()


def test_truncated_safetensors_is_refused_naming_the_file(tiny_bert_dir, tmp_path):
    folder = _copy(tiny_bert_dir, tmp_path / "truncated")
    weights = folder / "model.safetensors"
    data = weights.read_bytes()
    weights.write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelFormatError) as err:
        inspect_folder(folder)
    assert str(weights) in str(err.value)
    assert "truncated" in str(err.value)
    with pytest.raises(ModelFormatError):
        tamellm.load(folder)


@pytest.mark.parametrize(
    "content",
    [
        b"",  # empty file
        b"\x05\x00",  # shorter than the header length
        struct.pack("<Q", 10**9) + b"{}",  # header length past the end
        struct.pack("<Q", 4) + b"nope",  # header is not JSON
        struct.pack("<Q", 2) + b"[]",  # header is JSON but not an object
        _header(b'{"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}'),  # tensor bytes missing
    ],
)
def test_unreadable_safetensors_headers(tmp_path, content):
    path = tmp_path / "model.safetensors"
    path.write_bytes(content)
    with pytest.raises(ModelFormatError, match="model.safetensors is corrupt"):
        check_safetensors(path)


def test_sound_safetensors_passes(tiny_bert_dir):
    check_safetensors(tiny_bert_dir / "model.safetensors")


@pytest.mark.parametrize("name", ["config.json", "tamellm.json"])
def test_corrupt_json_is_refused_naming_the_file(tiny_bert_dir, tmp_path, name):
    folder = _copy(tiny_bert_dir, tmp_path / "corrupt")
    (folder / name).write_text('{"architectures": ["BertModel"', encoding="utf-8")
    with pytest.raises(ModelFormatError) as err:
        inspect_folder(folder)
    assert f"{name} is not valid JSON" in str(err.value)
    assert str(folder) in str(err.value)


def test_json_that_is_not_an_object_is_refused(tiny_bert_dir, tmp_path):
    folder = _copy(tiny_bert_dir, tmp_path / "list-config")
    (folder / "config.json").write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(ModelFormatError, match="config.json is not a JSON object"):
        inspect_folder(folder)


def test_weights_without_config_are_refused(tiny_bert_dir, tmp_path):
    folder = _copy(tiny_bert_dir, tmp_path / "no-config")
    (folder / "config.json").unlink()
    with pytest.raises(ModelFormatError, match="no config.json"):
        inspect_folder(folder)


def test_empty_folder_is_refused(tmp_path):
    with pytest.raises(ModelFormatError) as err:
        inspect_folder(tmp_path)
    assert "holds no model files" in str(err.value)
    assert "safetensors" in err.value.hint


@pytest.mark.parametrize(
    ("fixture", "task", "kind"),
    [
        ("tiny_bert_dir", "embed", "encoder"),
        ("tiny_classifier_dir", "classify", "transformers"),
        ("tiny_ner_dir", "ner", "transformers"),
        ("tiny_gpt2_dir", "generate", "transformers"),
    ],
)
def test_task_is_inferred_from_config_architectures(request, fixture, task, kind):
    folder = request.getfixturevalue(fixture)
    info = inspect_folder(folder)
    assert (info.task, info.kind) == (task, kind)
    assert [p.name for p in info.weights] == ["model.safetensors"]


def test_manifest_task_overrides_the_architecture(tiny_bert_dir, tmp_path):
    folder = _copy(tiny_bert_dir, tmp_path / "with-manifest")
    (folder / "tamellm.json").write_text(json.dumps({"task": "zero-shot-classification"}), encoding="utf-8")
    info = inspect_folder(folder)
    assert info.task == "zero-shot-classification"
    assert info.manifest == {"task": "zero-shot-classification"}
    assert type(tamellm.load(folder)).__name__ == "ZeroShotClassifier"


def test_other_formats_are_recognised_by_their_files(tmp_path):
    gguf = tmp_path / "gguf"
    gguf.mkdir()
    (gguf / "tiny.gguf").write_bytes(b"GGUF")
    assert (inspect_folder(gguf).kind, inspect_folder(gguf).task) == ("gguf", "generate")

    spacy_dir = tmp_path / "spacy"
    spacy_dir.mkdir()
    (spacy_dir / "meta.json").write_text("{}")
    (spacy_dir / "config.cfg").write_text("")
    assert (inspect_folder(spacy_dir).kind, inspect_folder(spacy_dir).task) == ("spacy", "ner")

    # CTranslate2's model.bin is a flat binary, not a pickle: it is not refused.
    whisper = tmp_path / "whisper"
    whisper.mkdir()
    (whisper / "model.bin").write_bytes(b"\x00")
    (whisper / "vocabulary.txt").write_text("a\n")
    assert (inspect_folder(whisper).kind, inspect_folder(whisper).task) == ("whisper", "transcribe")

    onnx = tmp_path / "onnx"
    onnx.mkdir()
    (onnx / "model.onnx").write_bytes(b"\x00")
    assert inspect_folder(onnx).kind == "onnx"
