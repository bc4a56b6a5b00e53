"""Export a sequence classifier to an ONNX graph and check it against PyTorch.

Used by the onnxruntime backend (a classifier's fp32 twin, ``tasks/onnx_twin.py``) and
by the ONNX compressors (``compress/onnx_export.py``).
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

import torch

from tamellm.batching import length_sorted_batches
from tamellm.errors import CompressionError
from tamellm.models.compressed_loader import is_head_layer
from tamellm.models.onnx_loader import OnnxModel

INPUTS = ("input_ids", "attention_mask", "token_type_ids")
OPSET = 17


class _Logits(torch.nn.Module):
    """Exports one output (the logits, or an encoder's last_hidden_state), with named inputs."""

    def __init__(self, model: torch.nn.Module, names: list[str], output: str = "logits") -> None:
        super().__init__()
        self.model, self.names, self.output = model, names, output

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        return getattr(self.model(**dict(zip(self.names, inputs, strict=True))), self.output)


def export(model: torch.nn.Module, tokenizer, path: Path, output: str = "logits") -> list[str]:
    """Export a sequence classifier (or, with ``output="last_hidden_state"``, an encoder) to ``path``.

    Batch and sequence axes are dynamic; returns the graph's input names.
    """
    sample = tokenizer(["an example sentence", "a second, longer example sentence"], padding=True,
                       return_tensors="pt")
    names = [n for n in INPUTS if n in sample]
    wrapper = _Logits(model, names, output).eval()
    out_axes = {0: "batch"} if output == "logits" else {0: "batch", 1: "sequence"}
    axes = {n: {0: "batch", 1: "sequence"} for n in names} | {output: out_axes}
    try:
        with torch.inference_mode(False), torch.no_grad(), warnings.catch_warnings():
            # Tracer and deprecation chatter; correctness is checked by ``parity`` afterwards.
            warnings.simplefilter("ignore")
            # The legacy exporter: onnxruntime's quantize_dynamic fails on the dynamo exporter's BERT graph.
            torch.onnx.export(wrapper, tuple(sample[n] for n in names), str(path), input_names=names,
                              output_names=[output], dynamic_axes=axes, opset_version=OPSET, dynamo=False)
    except Exception as exc:  # the exporter raises many types (unsupported op, tracing errors)
        arch = type(model).__name__
        raise CompressionError(f"ONNX export of {arch} failed: {str(exc).splitlines()[0][:300]}",
                               "this architecture uses an operation the ONNX exporter does not support; "
                               "use dynamic-int8 instead") from None
    return names


def parity(torch_model: torch.nn.Module, onnx_model: OnnxModel, tokenizer, texts: list[str],
           max_length: int) -> dict:
    """Max |Δlogit| and argmax agreement of the ONNX model against PyTorch on ``texts``."""
    encoded = tokenizer(texts, truncation=True, max_length=max_length)
    worst, agree = 0.0, 0
    with torch.inference_mode():
        for indices in length_sorted_batches([len(x) for x in encoded["input_ids"]], 32):
            batch = tokenizer.pad([{k: encoded[k][i] for k in encoded.keys()} for i in indices],
                                  return_tensors="pt")
            expected = torch_model(**batch).logits.float()
            got = onnx_model(**batch).logits.float()
            worst = max(worst, float((expected - got).abs().max()))
            agree += int((expected.argmax(-1) == got.argmax(-1)).sum())
    return {"texts": len(texts), "max_abs_logit_diff": round(worst, 6),
            "argmax_agreement": round(agree / max(1, len(texts)), 6)}


def head_nodes(path: Path) -> list[str]:
    """The ONNX nodes of the task head and pooler, left in float32 like the torch int8 path does."""
    import onnx

    graph = onnx.load(str(path), load_external_data=False).graph
    names = [node.name for node in graph.node if is_head_layer(node.name.replace("/", ".").strip("."))]
    # The quantizer first rewrites a Gemm as MatMul + Add and names the MatMul "<gemm>_MatMul".
    return names + [f"{name}_MatMul" for name in names if name.endswith("Gemm")]


def quantize_dynamic_int8(fp32: Path, target: Path, per_channel: bool,
                          op_types: list[str] | None = None) -> None:
    """Write ``target``: onnxruntime's dynamic int8 of the graph at ``fp32`` (int8 weights, activations scaled
    per batch), the task head and pooler left in float32; ``op_types`` limits the quantized ops (default: all
    the quantizer supports)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)  # onnxruntime.quantization logs per-tensor chatter on the root logger
    try:
        quantize_dynamic(str(fp32), str(target), weight_type=QuantType.QInt8, per_channel=per_channel,
                         op_types_to_quantize=op_types, nodes_to_exclude=head_nodes(fp32))
    finally:
        root.setLevel(level)
