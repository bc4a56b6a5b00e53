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
from pathlib import Path

from tamellm.compression.base import CompressContext, CompressionError, Compressor, register_compressor, write_manifest
from tamellm.compression.folders import load_source
from tamellm.models.onnx_graph import OPSET, export, parity, quantize_dynamic_int8
from tamellm.models.onnx_loader import ONNX_FILE, OnnxModel

log = logging.getLogger(__name__)


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
            quantize_dynamic_int8(fp32, target, per_channel=bool(self.params.get("per_channel", False)))
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


@register_compressor("onnx-fp32")
class OnnxFp32(_OnnxExport):
    """Export to ONNX and run on ONNX Runtime in float32."""

    description = "ONNX export, ONNX Runtime fp32"


@register_compressor("onnx-int8")
class OnnxInt8(_OnnxExport):
    """Export to ONNX and quantize to int8 with ONNX Runtime's dynamic quantization."""

    description = "ONNX export, ONNX Runtime dynamic int8"
    int8 = True
