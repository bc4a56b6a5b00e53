"""ONNX export (torch.onnx, legacy exporter) and ONNX Runtime int8, with a parity check.

``onnx-fp32`` exports the classifier; ``onnx-int8`` also quantizes it with
``onnxruntime.quantization.quantize_dynamic`` (int8 MatMul and embedding weights). The
legacy exporter (``dynamo=False``) is used because ``quantize_dynamic`` fails on the
dynamo exporter's graphs (shape inference). Every export is checked against the
PyTorch model on the validation texts: the largest |logit difference| and how often
the two agree on the predicted class, written into tamellm.json and reported.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

import torch

from tamellm.batching import length_sorted_batches
from tamellm.compression.base import CompressContext, CompressionError, Compressor, register_compressor, write_manifest
from tamellm.compression.folders import load_source
from tamellm.models.compressed_loader import is_head_layer
from tamellm.models.onnx_loader import ONNX_FILE, OnnxModel

log = logging.getLogger(__name__)
INPUTS = ("input_ids", "attention_mask", "token_type_ids")
OPSET = 17


class _Logits(torch.nn.Module):
    """Exports only the logits, with named inputs."""

    def __init__(self, model: torch.nn.Module, names: list[str]) -> None:
        super().__init__()
        self.model, self.names = model, names

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        return self.model(**dict(zip(self.names, inputs, strict=True))).logits


def export(model: torch.nn.Module, tokenizer, path: Path) -> list[str]:
    """Export a sequence classifier to ``path`` with dynamic batch and sequence axes."""
    sample = tokenizer(["an example sentence", "a second, longer example sentence"], padding=True,
                       return_tensors="pt")
    names = [n for n in INPUTS if n in sample]
    wrapper = _Logits(model, names).eval()
    axes = {n: {0: "batch", 1: "sequence"} for n in names} | {"logits": {0: "batch"}}
    try:
        with torch.inference_mode(False), torch.no_grad(), warnings.catch_warnings():
            # Tracer and deprecation chatter; correctness is checked by ``parity`` afterwards.
            warnings.simplefilter("ignore")
            torch.onnx.export(wrapper, tuple(sample[n] for n in names), str(path), input_names=names,
                              output_names=["logits"], dynamic_axes=axes, opset_version=OPSET, dynamo=False)
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


class _OnnxExport(Compressor):
    int8 = False

    def run(self, source: Path, out: Path, ctx: CompressContext) -> dict:
        loaded, transforms = load_source(source, self.name)
        if loaded.resolved.task != "classify":
            raise CompressionError(f"Method '{self.name}' cannot run on {source}: the ONNX Runtime backend "
                                   f"serves classifiers, and this model's task is '{loaded.resolved.task}'",
                                   "use dynamic-int8 for other tasks")
        if any(t["method"] == "dynamic-int8" for t in transforms):
            raise CompressionError(f"Method '{self.name}' cannot export {source}: torch int8 layers do not "
                                   "export to ONNX", f"export the float32 model with {self.name}")
        model, tokenizer = loaded.model.eval(), loaded.tokenizer
        target = out / ONNX_FILE
        fp32 = out / "model-fp32.onnx" if self.int8 else target
        names = export(model, tokenizer, fp32)
        if self.int8:
            from onnxruntime.quantization import QuantType, quantize_dynamic

            root = logging.getLogger()
            level = root.level
            root.setLevel(logging.ERROR)  # onnxruntime.quantization logs per-tensor chatter on the root logger
            try:
                quantize_dynamic(str(fp32), str(target), weight_type=QuantType.QInt8,
                                 per_channel=bool(self.params.get("per_channel", False)),
                                 nodes_to_exclude=head_nodes(fp32))
            finally:
                root.setLevel(level)
            fp32.unlink()
        model.config.save_pretrained(out)
        tokenizer.save_pretrained(out)
        check = parity(model, OnnxModel(target, model.config), tokenizer, ctx.texts, ctx.max_length)
        log.info("%s parity on %d texts: max |dlogit| %.2g, argmax agreement %.4f", self.name, check["texts"],
                 check["max_abs_logit_diff"], check["argmax_agreement"])
        onnx = {"precision": "int8" if self.int8 else "fp32", "opset": OPSET, "inputs": names,
                "parity": check, "source_transforms": [t["method"] for t in transforms]}
        write_manifest(out, {"task": "classify", "kind": "onnx", "onnx": onnx})
        return {"parity": check}


def head_nodes(path: Path) -> list[str]:
    """The ONNX nodes of the task head and pooler, left in float32 like the torch int8 path does."""
    import onnx

    graph = onnx.load(str(path), load_external_data=False).graph
    names = [node.name for node in graph.node if is_head_layer(node.name.replace("/", ".").strip("."))]
    # The quantizer first rewrites a Gemm as MatMul + Add and names the MatMul "<gemm>_MatMul".
    return names + [f"{name}_MatMul" for name in names if name.endswith("Gemm")]


@register_compressor("onnx-fp32")
class OnnxFp32(_OnnxExport):
    """Export to ONNX and run on ONNX Runtime in float32."""

    description = "ONNX export, ONNX Runtime fp32"


@register_compressor("onnx-int8")
class OnnxInt8(_OnnxExport):
    """Export to ONNX and quantize to int8 with ONNX Runtime's dynamic quantization."""

    description = "ONNX export, ONNX Runtime dynamic int8"
    int8 = True
