"""Loading an ONNX model folder into ONNX Runtime (kind "onnx").

The folder holds ``model.onnx`` (written by ``tamellm compress``: a transformers model
exported with ``torch.onnx.export``, fp32 or dynamic int8), ``config.json`` (labels)
and the tokenizer files. The session is wrapped so that a task model calls it like a
transformers model: ``model(**batch).logits`` with torch tensors in and out.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import torch

from tamellm.errors import MissingExtraError, ModelFormatError

ONNX_FILE = "model.onnx"


@dataclass
class _Output:
    logits: torch.Tensor | None = None  # a classifier's graph
    last_hidden_state: torch.Tensor | None = None  # an encoder's graph (embeddings)


def session_threads() -> int:
    """Threads for one ONNX Runtime session: torch's choice for this machine (its physical cores)."""
    return max(1, min(torch.get_num_threads(), os.cpu_count() or 1))


class OnnxModel:
    """An ONNX Runtime session that answers ``model(**batch).logits`` like a transformers model."""

    def __init__(self, path: Path, config) -> None:
        try:
            import onnxruntime as ort
        except ImportError:
            raise MissingExtraError("ONNX models need onnxruntime",
                                    "install it with: pip install onnxruntime") from None
        options = ort.SessionOptions()
        options.intra_op_num_threads = session_threads()
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3
        try:
            self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own (non-exported) exception types
            raise ModelFormatError(f"ONNX model {path} could not be loaded: {str(exc).splitlines()[0]}",
                                   "re-export it with tamellm compress --methods onnx-fp32") from None
        self.config = config
        self.input_names = [i.name for i in self.session.get_inputs()]
        self.output_name = "logits" if "logits" in {o.name for o in self.session.get_outputs()} else (
            self.session.get_outputs()[0].name)
        self.path = path

    def eval(self) -> OnnxModel:
        """No-op (an ONNX session has no training mode); kept for transformers-like callers."""
        return self

    def __call__(self, **batch: torch.Tensor) -> _Output:
        feed = {name: batch[name].numpy().astype("int64") for name in self.input_names if name in batch}
        if "token_type_ids" in self.input_names and "token_type_ids" not in feed:
            feed["token_type_ids"] = torch.zeros_like(batch["input_ids"]).numpy().astype("int64")
        (out,) = self.session.run([self.output_name], feed)
        return _Output(**{self.output_name: torch.from_numpy(out)})


def load_onnx(resolved):
    """The LOADERS entry for kind "onnx"."""
    from transformers import AutoConfig, AutoTokenizer

    from tamellm.models.loaders import LoadedModel, prepare_transformers

    prepare_transformers()
    folder = Path(resolved.path)
    path = folder / ONNX_FILE
    if not path.exists():
        found = sorted(p.name for p in folder.glob("*.onnx"))
        if len(found) != 1:
            raise ModelFormatError(f"ONNX model folder {folder} has {len(found)} .onnx files and no {ONNX_FILE}",
                                   f"name the model file {ONNX_FILE}")
        path = folder / found[0]
    if not (folder / "config.json").exists():
        raise ModelFormatError(f"ONNX model folder {folder} has no config.json (labels)",
                               "export it with tamellm compress, which writes config.json and the tokenizer")
    try:
        config = AutoConfig.from_pretrained(folder)
        tokenizer = AutoTokenizer.from_pretrained(folder)
    except (OSError, ValueError, KeyError) as exc:
        raise ModelFormatError(f"ONNX model folder {folder} could not be loaded: {str(exc).splitlines()[0]}",
                               "an ONNX folder needs model.onnx, config.json and tokenizer files") from exc
    positions = getattr(config, "max_position_embeddings", None)
    if isinstance(positions, int) and positions > 0 and (tokenizer.model_max_length or 0) > positions:
        tokenizer.model_max_length = positions
    return LoadedModel(resolved, OnnxModel(path, config), tokenizer)
