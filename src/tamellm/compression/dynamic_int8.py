"""Dynamic int8 quantization (torch): int8 Linear weights, activations quantized on the fly.

Saved without pickle as a "compressed" folder (models/compressed_loader.py): the int8
weights and their scales in safetensors; at load time the model is rebuilt
and quantized, and the exact saved int8 weights are put back. The embedding tables are
stored as int8 too (one scale per row) and dequantized at load, so the folder is about
4x smaller than the float32 one.
"""

from __future__ import annotations

from pathlib import Path

from tamellm.compression.base import CompressContext, CompressionError, Compressor, register_compressor
from tamellm.compression.folders import load_source, save_model
from tamellm.models.compressed_loader import quantize_int8


@register_compressor("dynamic-int8")
class DynamicInt8(Compressor):
    """torch.ao dynamic quantization of every nn.Linear to int8 (one scale per weight tensor)."""

    description = "int8 Linear weights (torch dynamic quantization), int8-stored embeddings"

    def run(self, source: Path, out: Path, ctx: CompressContext) -> dict:
        loaded, transforms = load_source(source, self.name)
        if any(t["method"] == "dynamic-int8" for t in transforms):
            raise CompressionError(f"{source} is already dynamic-int8", "quantize a float32 model folder")
        loaded.model = quantize_int8(loaded.model)
        transforms.append({"method": self.name})
        save_model(loaded, out, transforms, {})
        return {"transforms": [t["method"] for t in transforms]}
