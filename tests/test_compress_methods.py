"""Each compression method on a tiny BERT classifier: output loads through tamellm and behaves as promised."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

import tamellm
from tamellm.compression import CompressContext, CompressionError
from tamellm.compression.base import get_compressor, staged_folder
from tamellm.compression.measure import load_task
from tamellm.errors import InputError, ModelFormatError

TEXTS = [
    "This phone is great and the battery lasts all day.", "The film was boring and far too long.",
    "I love this restaurant, the food is wonderful.", "The service was terrible and the soup was cold.",
    "The new laptop is fast, light and quiet.", "Markets fell sharply after the bank raised rates.",
    "The team won the cup after a long season.", "Rain is expected tomorrow in New York.",
]
LABELS = [1, 0, 1, 0, 1, 0, 1, 0]


def _ctx(**extra) -> CompressContext:
    return CompressContext(TEXTS, LABELS, train_texts=TEXTS * 2, train_labels=LABELS * 2, **extra)


def _run(method: str, source: Path, out: Path, **params) -> dict:
    with staged_folder(out) as tmp:
        return get_compressor(method, **params).run(source, tmp, _ctx())


def _probs(folder: Path) -> torch.Tensor:
    return load_task(folder).probabilities(TEXTS)


def _logits(folder: Path) -> torch.Tensor:
    model = load_task(folder)
    batch = model.tokenizer(TEXTS, padding=True, return_tensors="pt")
    with torch.inference_mode():
        return model.model(**batch).logits.float()


def test_dynamic_int8_stores_int8_weights_without_pickle_and_predicts_like_fp32(tiny_classifier_dir, tmp_path):
    out = tmp_path / "int8"
    _run("dynamic-int8", tiny_classifier_dir, out)
    manifest = json.loads((out / "tamellm.json").read_text())
    assert manifest["kind"] == "compressed" and manifest["task"] == "classify"
    assert [t["method"] for t in manifest["compress"]["transforms"]] == ["dynamic-int8"]
    assert not [p for p in out.iterdir() if p.suffix in (".bin", ".pt", ".pth", ".pkl")]
    tensors = load_file(str(out / "compressed.safetensors"))
    assert tensors["bert.encoder.layer.0.attention.self.query.weight"].dtype == torch.int8
    assert tensors["bert.embeddings.word_embeddings.weight"].dtype == torch.int8
    weights_fp32 = sum(p.stat().st_size for p in tiny_classifier_dir.glob("*.safetensors"))
    assert (out / "compressed.safetensors").stat().st_size < 0.5 * weights_fp32
    # The loaded model really is quantized, and stays close to the float32 one.
    loaded = load_task(out)
    from torch.ao.nn.quantized.dynamic import Linear as QLinear

    assert isinstance(loaded.model.bert.encoder.layer[0].attention.self.query, QLinear)
    # The task head and the pooler stay float32: small, and their rounding lands on the logits.
    assert tensors["classifier.weight"].dtype == tensors["bert.pooler.dense.weight"].dtype == torch.float32
    assert type(loaded.model.classifier) is torch.nn.Linear and type(loaded.model.bert.pooler.dense) is torch.nn.Linear
    assert torch.allclose(_probs(out), _probs(tiny_classifier_dir), atol=0.05)
    # The public API loads it like any model folder.
    result = tamellm.classify(TEXTS[0], model=out)
    assert result.label in ("negative", "positive")


def test_reloading_int8_is_deterministic(tiny_classifier_dir, tmp_path):
    out = tmp_path / "int8"
    _run("dynamic-int8", tiny_classifier_dir, out)
    assert torch.equal(_logits(out), _logits(out))
    with pytest.raises(CompressionError, match="already dynamic-int8"):
        _run("dynamic-int8", out, tmp_path / "twice")


def test_onnx_fp32_matches_pytorch_and_records_parity(tiny_classifier_dir, tmp_path):
    out = tmp_path / "onnx"
    details = _run("onnx-fp32", tiny_classifier_dir, out)
    parity = details["parity"]
    assert parity["texts"] == len(TEXTS)
    assert parity["max_abs_logit_diff"] < 1e-4 and parity["argmax_agreement"] == 1.0
    manifest = json.loads((out / "tamellm.json").read_text())
    assert manifest["kind"] == "onnx" and manifest["onnx"]["parity"] == parity
    assert (out / "model.onnx").exists() and not list(out.glob("*.safetensors"))
    model = tamellm.load(out)
    assert model.info()["backend"] == "onnxruntime"
    assert torch.allclose(_logits(out), _logits(tiny_classifier_dir), atol=1e-4)
    torch_labels = [r.label for r in tamellm.classify(TEXTS, model=tiny_classifier_dir)]
    assert [r.label for r in model.predict(TEXTS)] == torch_labels
    # No gradients in ONNX Runtime: occlusion explains it, with the same scores as on the PyTorch model.
    onnx_why = tamellm.explain(TEXTS[0], model=out)
    torch_why = tamellm.explain(TEXTS[0], model=tiny_classifier_dir, method="occlusion")
    assert onnx_why.method == "occlusion" and onnx_why.label == torch_why.label
    assert [w.word for w in onnx_why.words] == [w.word for w in torch_why.words]
    assert np.allclose([w.score for w in onnx_why.words], [w.score for w in torch_why.words], atol=1e-4)
    with pytest.raises(tamellm.TamellmError, match="occlusion"):
        tamellm.explain(TEXTS[0], model=out, method="integrated_gradients")


def test_onnx_int8_is_smaller_and_reports_parity(tiny_classifier_dir, tmp_path):
    fp32, int8 = tmp_path / "fp32", tmp_path / "int8"
    _run("onnx-fp32", tiny_classifier_dir, fp32)
    details = _run("onnx-int8", tiny_classifier_dir, int8)
    assert (int8 / "model.onnx").stat().st_size < (fp32 / "model.onnx").stat().st_size
    assert not (int8 / "model-fp32.onnx").exists()
    import onnx

    graph = onnx.load(str(int8 / "model.onnx")).graph
    integer = {n.name for n in graph.node if n.op_type == "MatMulInteger"}
    assert any("/encoder/" in n for n in integer)  # the encoder's matrix products are int8...
    assert not any("classifier" in n or "pooler" in n for n in integer)  # ...the head is not
    assert 0.0 <= details["parity"]["argmax_agreement"] <= 1.0
    assert details["parity"]["max_abs_logit_diff"] > 0  # int8 is not bit-exact...
    assert torch.allclose(_probs(int8), _probs(tiny_classifier_dir), atol=0.1)  # ...but close


def test_onnx_refuses_a_model_it_cannot_serve(tiny_ner_dir, tmp_path):
    with pytest.raises(CompressionError, match="serves classifiers"):
        _run("onnx-fp32", tiny_ner_dir, tmp_path / "x")
    assert not (tmp_path / "x").exists()


def test_magnitude_pruning_zeroes_the_requested_fraction(tiny_classifier_dir, tmp_path):
    out = tmp_path / "pruned"
    _run("prune-magnitude", tiny_classifier_dir, out, amount=0.4)
    model = load_task(out).model
    weights = [m.weight for n, m in model.named_modules() if isinstance(m, torch.nn.Linear) and ".layer." in n]
    zeros = sum(int((w == 0).sum()) for w in weights) / sum(w.numel() for w in weights)
    assert zeros == pytest.approx(0.4, abs=0.01)
    assert json.loads((out / "tamellm.json").read_text())["kind"] == "transformers"


def test_structured_pruning_makes_layers_physically_smaller(tiny_classifier_dir, tmp_path):
    out = tmp_path / "structured"
    details = _run("prune-structured", tiny_classifier_dir, out, heads=0.5, ffn=0.25, recover_steps=2)
    assert details["layers"]["0"] == {"heads": 1, "ffn": 16}
    assert details["recovery"]["steps"] == 2  # a short distillation from the unpruned model
    model = load_task(out).model
    layer = model.bert.encoder.layer[0]
    assert layer.attention.self.query.out_features == 16  # 1 head of 16 dims (hidden 32, 2 heads)
    assert layer.intermediate.dense.out_features == 16 and layer.output.dense.in_features == 16
    original = sum(p.numel() for p in load_task(tiny_classifier_dir).model.parameters())
    assert sum(p.numel() for p in model.parameters()) < original
    results = tamellm.classify(TEXTS, model=out)
    assert len(results) == len(TEXTS)


def test_structured_pruning_then_int8_chains(tiny_classifier_dir, tmp_path):
    _run("prune-structured", tiny_classifier_dir, tmp_path / "a", heads=0.5, ffn=0.5, recover_s=0)
    _run("dynamic-int8", tmp_path / "a", tmp_path / "b")
    manifest = json.loads((tmp_path / "b" / "tamellm.json").read_text())
    assert [t["method"] for t in manifest["compress"]["transforms"]] == ["prune-structure", "dynamic-int8"]
    assert torch.allclose(_probs(tmp_path / "b"), _probs(tmp_path / "a"), atol=0.05)
    with pytest.raises(CompressionError, match="already int8"):
        _run("low-rank", tmp_path / "b", tmp_path / "c")


def test_low_rank_is_the_truncated_svd(tiny_classifier_dir, tmp_path):
    out = tmp_path / "low-rank"
    details = _run("low-rank", tiny_classifier_dir, out, rank_ratio=0.25)
    assert details["factorized"] == details["of"] > 0
    original = load_task(tiny_classifier_dir).model.bert.encoder.layer[1].attention.self.value.weight.detach()
    factor = load_task(out).model.bert.encoder.layer[1].attention.self.value
    assert isinstance(factor, torch.nn.Sequential) and factor[0].out_features == 8  # 0.25 x rank 32
    product = (factor[1].weight @ factor[0].weight).detach()
    singular = torch.linalg.svdvals(original)
    # Eckart-Young: the best rank-8 approximation leaves exactly the tail singular values.
    assert float(torch.linalg.matrix_norm(original - product)) == pytest.approx(float(singular[8:].norm()), rel=1e-3)


def test_low_rank_says_when_nothing_would_shrink(tiny_classifier_dir, tmp_path):
    with pytest.raises(CompressionError, match="would not shrink"):
        _run("low-rank", tiny_classifier_dir, tmp_path / "x", energy=0.9999)


def test_distillation_trains_a_smaller_student(tiny_classifier_dir, tmp_path):
    out = tmp_path / "student"
    details = _run("distill", tiny_classifier_dir, out, layers=1, max_steps=3, batch_size=4)
    assert details["steps"] == 3 and details["student_layers"] == 1 and details["initialised_from"] == [1]
    model = load_task(out).model
    assert model.config.num_hidden_layers == 1 and len(model.bert.encoder.layer) == 1
    assert len(tamellm.classify(TEXTS, model=out)) == len(TEXTS)
    # Seeded: the same run gives the same student.
    again = tmp_path / "again"
    _run("distill", tiny_classifier_dir, again, layers=1, max_steps=3, batch_size=4)
    assert torch.equal(_logits(out), _logits(again))


def test_distillation_needs_training_texts(tiny_classifier_dir, tmp_path):
    with staged_folder(tmp_path / "x") as tmp, pytest.raises(CompressionError, match="training texts"):
        get_compressor("distill").run(tiny_classifier_dir, tmp, CompressContext(TEXTS, LABELS))


def test_unknown_method_lists_the_known_ones():
    with pytest.raises(InputError, match="accepted: .*dynamic-int8"):
        get_compressor("dynamic-int9")


def test_corrupt_compressed_folder_is_a_clear_error(tiny_classifier_dir, tmp_path):
    out = tmp_path / "int8"
    _run("dynamic-int8", tiny_classifier_dir, out)
    weights = out / "compressed.safetensors"
    weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])
    with pytest.raises(ModelFormatError, match="compressed.safetensors"):
        tamellm.load(out)

