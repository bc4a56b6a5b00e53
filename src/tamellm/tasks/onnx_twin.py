"""A classifier's (or an embedding encoder's) ONNX Runtime twin: its own fp32 weights exported once, checked.

``tamellm.load(folder, backend="onnxruntime")`` and ``tamellm serve`` (backend auto, the
default) use it; ``backend="onnxruntime-int8"`` is its opt-in dynamic int8 copy. Unlike
``tamellm compress``, the fp32 twin changes no weight and needs no data: the same model on a
faster CPU runtime (a graph-optimised session with fused layer-norm and GELU kernels),
measured at ~1.7x the PyTorch throughput of MiniLM micro-batches on 2 cores. The export is
kept under ``$TAMELLM_HOME/onnx`` keyed by the folder and its weight files' content
fingerprints, written to a temporary sibling and renamed, so a crash leaves no half entry.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import tempfile
from pathlib import Path

from tamellm.errors import CompressionError
from tamellm.models.onnx_loader import ONNX_FILE, OnnxModel
from tamellm.models.resolve import ResolvedModel
from tamellm.paths import cache_dir, file_fingerprint
from tamellm.tasks.backends import BACKENDS, BackendNotApplicable

log = logging.getLogger(__name__)
MAX_LOGIT_DIFF = 1e-3  # fp32 kernels differ in summation order only; more than this is a broken export
PARITY_TEXTS = [
    "The service was quick and the staff were friendly.", "I waited an hour and nobody answered.",
    "Prices went up again this quarter.", "What a wonderful surprise!", "ok",
    "The update broke the app; it crashes every time I open the settings page, and support never replied.",
]


# What the twin of each task exports: the classifier's logits, or the encoder's token vectors
# (mean-pooled by the embed task itself, as on the torch path).
OUTPUTS = {"classify": "logits", "embed": "last_hidden_state"}
TWIN_KINDS = {"classify": ("transformers",), "embed": ("encoder", "transformers")}


def twin_folder(resolved: ResolvedModel, task: str = "classify", precision: str = "fp32") -> Path:
    """The cache folder of ``resolved``'s ONNX twin for ``task`` at ``precision`` (it may not exist yet)."""
    weights = sorted(resolved.path.glob("*.safetensors"))
    stamp = "|".join([str(resolved.path.resolve())] + [f"{p.name}:{file_fingerprint(p)}"
                                                        for p in weights])
    suffix = ("" if task == "classify" else f"-{task}") + ("" if precision == "fp32" else f"-{precision}")
    return cache_dir("onnx") / f"{resolved.path.name}{suffix}-{hashlib.sha256(stamp.encode()).hexdigest()[:12]}"


def embedding_parity(model, onnx_model: OnnxModel, tokenizer, texts: list[str]) -> dict:
    """Max |Δ| of the encoder's token vectors, ONNX against PyTorch, on ``texts`` (one padded batch)."""
    import torch

    batch = tokenizer(texts, padding=True, truncation=True, max_length=512, return_tensors="pt")
    with torch.inference_mode():
        expected = model(**batch).last_hidden_state.float()
        got = onnx_model(**batch).last_hidden_state.float()
    mask = batch["attention_mask"].unsqueeze(-1).bool()  # padded positions are never pooled
    worst = float(((expected - got).abs() * mask).max())
    return {"texts": len(texts), "max_abs_hidden_diff": round(worst, 6)}


def quantize_int8(fp32: Path, target: Path) -> None:
    """Dynamic int8 of an exported graph (onnxruntime.quantization): int8 weights, activations scaled per batch.

    Only the MatMuls, with a scale per output channel; the task head stays float32. MiniLM sentence
    vectors on SST-2 dev against fp32: cosine median 0.993, min 0.974 (one scale per tensor, or int8
    word embeddings too: min 0.79).
    """
    from tamellm.models.onnx_graph import quantize_dynamic_int8

    quantize_dynamic_int8(fp32, target, per_channel=True, op_types=["MatMul"])


def ensure_twin(resolved: ResolvedModel, task: str = "classify", precision: str = "fp32") -> Path:
    """Export ``resolved`` (a classifier, or an encoder for ``task="embed"``) on first use; return the folder.

    ``precision="int8"`` quantizes the export (opt-in: its answers differ a little from the model's,
    the parity recorded in tamellm.json says how much); fp32 must match the model.
    """
    target = twin_folder(resolved, task, precision)
    if (target / ONNX_FILE).exists():
        return target
    from tamellm.models.onnx_graph import export, parity
    from tamellm.tasks.loading import read_weights

    loaded = read_weights(resolved)
    model, tokenizer = loaded.model.eval(), loaded.tokenizer
    if task == "embed":  # a fine-tuned classifier folder embeds through its base encoder
        model = getattr(model, "base_model", None) or model
    log.info("exporting %s to ONNX for onnxruntime (once) in %s", resolved.name, target)
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=target.parent))
    try:
        fp32 = tmp / (ONNX_FILE if precision == "fp32" else "model-fp32.onnx")
        names = export(model, tokenizer, fp32, OUTPUTS[task])
        if precision == "int8":
            quantize_int8(fp32, tmp / ONNX_FILE)
            fp32.unlink()
        twin = OnnxModel(tmp / ONNX_FILE, model.config)
        if task == "embed":
            check = embedding_parity(model, twin, tokenizer, PARITY_TEXTS)
            broken = check["max_abs_hidden_diff"] > MAX_LOGIT_DIFF
        else:
            check = parity(model, twin, tokenizer, PARITY_TEXTS, 512)
            broken = check["max_abs_logit_diff"] > MAX_LOGIT_DIFF or check["argmax_agreement"] < 1
        if broken and precision == "fp32":
            raise CompressionError(f"The ONNX export of {resolved.name} does not match it: {check}",
                                   "serve it with the default backend (transformers)")
        model.config.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        manifest = {"task": task, "kind": "onnx", "source": str(resolved.path),
                    "onnx": {"precision": precision, "inputs": names, "parity": check}}
        (tmp / "tamellm.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
        try:
            tmp.rename(target)
        except OSError:  # another server worker exported it meanwhile: keep theirs
            if not (target / ONNX_FILE).exists():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def load_twin(resolved: ResolvedModel, task: str, explicit: bool, precision: str):
    """The classifier (or the encoder, for embed) on ONNX Runtime at ``precision``, under its own name."""
    own_task = resolved.task in (("classify",) if task == "classify" else ("classify", "embed"))
    if resolved.kind not in TWIN_KINDS.get(task, ()) or not own_task:
        if explicit:
            name = "onnxruntime" if precision == "fp32" else f"onnxruntime-{precision}"
            raise BackendNotApplicable(f"The {name} backend runs fine-tuned classifiers and embedding "
                                       f"encoders; '{resolved.name}' is a {resolved.kind} model for task '{task}'",
                                       "drop backend= for this model")
        return None
    from tamellm.models.folder import inspect_folder
    from tamellm.tasks.loading import build_task_model

    folder = ensure_twin(resolved, task, precision)
    twin = ResolvedModel(resolved.name, folder, "onnx", task, resolved.source, info=inspect_folder(folder))
    return build_task_model(twin, task)


@BACKENDS.register("onnxruntime")
def load_for(resolved: ResolvedModel, task: str, explicit: bool):
    """The backends registry's entry: the same fp32 weights on ONNX Runtime (the server's default)."""
    return load_twin(resolved, task, explicit, "fp32")


@BACKENDS.register("onnxruntime-int8")
def load_int8(resolved: ResolvedModel, task: str, explicit: bool):
    """The backends registry's entry: dynamic int8 (opt-in, ~2.3x cheaper; answers differ slightly)."""
    return load_twin(resolved, task, explicit, "int8")


def onnx_info(info: dict, resolved: ResolvedModel) -> dict:
    """``info`` of a model run on ONNX Runtime, with its precision and export parity. A server's twin
    keeps the model folder the user named as ``path`` (its size and compression table are read there)
    and names its own folder ``twin``."""
    manifest = resolved.info.manifest if resolved.info else {}
    onnx = manifest.get("onnx", {})
    twin = {"path": manifest["source"], "twin": str(resolved.path)} if "source" in manifest else {}
    return {**info, **twin, "backend": "onnxruntime", "precision": onnx.get("precision"), "parity": onnx.get("parity")}
