"""The onnxruntime backend: a classifier's own weights on ONNX Runtime, through load, the server and the CLI option."""

from __future__ import annotations

import pytest
import torch
from fastapi.testclient import TestClient

import tamellm
from tamellm.batching import length_sorted_batches
from tamellm.errors import ConfigError, InputError

TEXTS = ["what a lovely day", "this is terrible", "ok", "the plot was slow but the music and the cast were fine"]


def test_onnxruntime_twin_predicts_like_the_torch_model_under_the_same_name(tiny_classifier_dir):
    from tamellm.models import resolve
    from tamellm.tasks.onnx_twin import twin_folder

    torch_model = tamellm.load(tiny_classifier_dir)
    twin = tamellm.load(tiny_classifier_dir, backend="onnxruntime")
    assert twin.info()["backend"] == "onnxruntime" and twin.name == torch_model.name
    assert twin.info()["parity"]["argmax_agreement"] == 1.0
    assert torch.allclose(twin.probabilities(TEXTS), torch_model.probabilities(TEXTS), atol=1e-4)
    exported = twin_folder(resolve(tiny_classifier_dir)) / "model.onnx"
    stamp = exported.stat().st_mtime_ns
    tamellm.load(tiny_classifier_dir, backend="onnxruntime")
    assert exported.stat().st_mtime_ns == stamp  # exported once, then reused


def test_onnxruntime_backend_names_what_it_runs(tiny_bert_dir, tiny_gpt2_dir):
    with pytest.raises(InputError, match="onnxruntime backend runs fine-tuned classifiers and embedding encoders"):
        tamellm.load(tiny_gpt2_dir, backend="onnxruntime")
    with pytest.raises(InputError, match="Unknown backend 'onnx'") as caught:
        tamellm.load(tiny_bert_dir, backend="onnx")
    accepted = str(caught.value).split("accepted: ")[1]  # in the order the backends were registered
    assert {"transformers", "llama.cpp", "onnxruntime", "onnxruntime-int8"} <= set(accepted.rstrip(")").split(", "))


def test_onnxruntime_twin_of_an_encoder_embeds_like_the_torch_model(tiny_bert_dir):
    torch_model = tamellm.load(tiny_bert_dir)
    twin = tamellm.load(tiny_bert_dir, backend="onnxruntime")
    assert twin.task == "embed" and twin.info()["backend"] == "onnxruntime" and twin.name == torch_model.name
    assert twin.info()["parity"]["max_abs_hidden_diff"] < 1e-3
    # The model folder the user named stays its path (the web page reads its size and compression table there).
    assert twin.info()["path"] == torch_model.info()["path"] and twin.info()["twin"] != twin.info()["path"]
    expected, got = torch_model.encode(TEXTS), twin.encode(TEXTS)
    assert got.shape == expected.shape and abs(got - expected).max() < 1e-4
    assert abs((got * got).sum(1) - 1).max() < 1e-5  # pooled and normalised as on the torch path


def test_server_backend_runs_classifiers_on_onnxruntime_and_leaves_other_models(tiny_classifier_dir, tiny_bert_dir):
    expected = [r.label for r in tamellm.load(tiny_classifier_dir).predict(TEXTS)]
    app = tamellm.create_app([str(tiny_classifier_dir), str(tiny_bert_dir)], backend="onnxruntime")
    with TestClient(app) as client:
        pool = app.state.tamellm.pool
        kinds = {m.name: m.tasks[m.main_task].info()["kind"] for m in pool.models.values()}
        assert sorted(kinds.values()) == ["onnx", "onnx"]  # the classifier and the embedding encoder
        answer = client.post("/v1/classify", json={"input": TEXTS, "model": tiny_classifier_dir.name})
        assert answer.status_code == 200
        assert [d["label"] for d in answer.json()["data"]] == expected
        assert client.post("/v1/embeddings", json={"input": "hi", "model": tiny_bert_dir.name}).status_code == 200
    with pytest.raises(ConfigError, match="backend") as refused:
        tamellm.create_app([str(tiny_classifier_dir)], backend="tensorrt")
    assert all(f"'{name}'" in str(refused.value) for name in ("onnxruntime-genai", "ctranslate2", "llama.cpp"))


def test_default_server_embeds_on_the_onnx_twin_with_the_torch_vectors(tiny_bert_dir):
    expected = tamellm.load(tiny_bert_dir).encode(TEXTS)
    with TestClient(tamellm.create_app([str(tiny_bert_dir)])) as client:
        (served,) = client.app.state.tamellm.pool.models.values()
        assert served.tasks["embed"].info()["kind"] == "onnx"
        answer = client.post("/v1/embeddings", json={"input": TEXTS})
        assert answer.status_code == 200
        got = [item["embedding"] for item in answer.json()["data"]]
    assert abs(torch.tensor(got) - torch.from_numpy(expected)).max() < 1e-4


def test_int8_backend_is_opt_in_and_close_to_fp32(tiny_classifier_dir, tiny_bert_dir):
    import onnx

    fp32 = tamellm.load(tiny_classifier_dir, backend="onnxruntime")
    int8 = tamellm.load(tiny_classifier_dir, backend="onnxruntime-int8")
    assert (fp32.info()["precision"], int8.info()["precision"]) == ("fp32", "int8")
    ops = {n.op_type for n in onnx.load(str(int8.loaded.resolved.path / "model.onnx")).graph.node}
    assert "MatMulInteger" in ops or "DynamicQuantizeMatMul" in ops
    assert torch.allclose(int8.probabilities(TEXTS), fp32.probabilities(TEXTS), atol=0.05)
    vectors = tamellm.load(tiny_bert_dir, backend="onnxruntime-int8").encode(TEXTS)
    reference = tamellm.load(tiny_bert_dir, backend="onnxruntime").encode(TEXTS)
    assert ((vectors * reference).sum(1) > 0.95).all()
    app = tamellm.create_app([str(tiny_classifier_dir)])  # the default stays fp32
    (served,) = app.state.tamellm.pool.models.values()
    assert served.tasks["classify"].info()["precision"] == "fp32"


def test_least_padding_batches_cut_where_padding_costs_more_than_a_call():
    from tamellm.batching import least_padding_batches

    lengths = [60, 5, 50, 6, 7, 55, 8, 9]
    # A call costs 16 tokens: the three long texts go together (180 padded tokens for 165 real ones,
    # cheaper than a second call), the five short ones apart from them.
    assert least_padding_batches(lengths, batch_size=32, call_tokens=16) == [[0, 5, 2], [7, 6, 4, 3, 1]]
    assert least_padding_batches(lengths, batch_size=32, call_tokens=10_000) == [[0, 5, 2, 7, 6, 4, 3, 1]]
    assert least_padding_batches(lengths, batch_size=32, call_tokens=0) == [[i] for i in (0, 5, 2, 7, 6, 4, 3, 1)]
    capped = least_padding_batches(lengths, batch_size=3, call_tokens=10_000)
    assert len(capped) == 3 and max(map(len, capped)) == 3 and sorted(sum(capped, [])) == list(range(8))
    assert least_padding_batches([], batch_size=4) == []
    with pytest.raises(ValueError, match="batch_size"):
        least_padding_batches([3], batch_size=0)


def test_token_capped_batches_keep_long_texts_apart():
    lengths = [60, 5, 50, 6, 7, 55, 8, 9]
    batches = list(length_sorted_batches(lengths, batch_size=32, max_tokens=128))
    assert sorted(i for b in batches for i in b) == list(range(8))
    assert all(len(b) * max(lengths[i] for i in b) <= 128 or len(b) == 1 for b in batches)
    assert batches == [[0, 5], [2, 7], [6, 4, 3, 1]]  # 128 // 60 = 2, 128 // 50 = 2, then 128 // 8 = 16
    assert list(length_sorted_batches(lengths, batch_size=3)) == [[0, 5, 2], [7, 6, 4], [3, 1]]


def test_default_backend_serves_classifiers_on_onnxruntime_and_falls_back_when_export_fails(
        tiny_classifier_dir, monkeypatch):
    from tamellm.compression.base import CompressionError
    from tamellm.tasks import clear_cache, onnx_twin

    def kind(app) -> str:
        (served,) = app.state.tamellm.pool.models.values()
        return served.tasks["classify"].info()["kind"]

    with TestClient(tamellm.create_app([str(tiny_classifier_dir)])) as client:
        assert kind(client.app) == "onnx"
    with TestClient(tamellm.create_app([str(tiny_classifier_dir)], backend="transformers")) as client:
        assert kind(client.app) == "transformers"

    def broken(resolved, task="classify", precision="fp32"):
        raise CompressionError("The ONNX export of tiny does not match it")

    monkeypatch.setattr(onnx_twin, "ensure_twin", broken)
    clear_cache()  # the twin loaded above is reused by default; load it anew to meet the broken export
    with TestClient(tamellm.create_app([str(tiny_classifier_dir)])) as client:
        assert kind(client.app) == "transformers"  # auto: a warning, then transformers
        assert client.post("/v1/classify", json={"input": "fine"}).status_code == 200
    with pytest.raises(CompressionError, match="does not match"):
        tamellm.create_app([str(tiny_classifier_dir)], backend="onnxruntime")
