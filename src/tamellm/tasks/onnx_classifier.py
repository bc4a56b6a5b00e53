"""Text classification on ONNX Runtime: the same predictions as ``TextClassifier``, faster on CPU.

The loader (``models/onnx_loader.py``) wraps the session so that it answers like a
transformers model, so batching, length bucketing and post-processing are shared with
the PyTorch classifier.
"""

from __future__ import annotations

from tamellm.tasks.base import register
from tamellm.tasks.text_classification import TextClassifier


@register("classify", kinds=("onnx",))
class OnnxTextClassifier(TextClassifier):
    """A sequence classifier exported to ONNX (fp32 or int8), run by ONNX Runtime."""

    def info(self) -> dict:
        """What this model is, with the backend and the parity measured at export."""
        manifest = self.loaded.resolved.info.manifest if self.loaded.resolved.info else {}
        return {**super().info(), "backend": "onnxruntime", "parity": manifest.get("onnx", {}).get("parity")}
