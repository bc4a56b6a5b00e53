"""A classifier's ONNX Runtime twin: its own fp32 weights exported once to ONNX, cached, checked for parity.

``tamellm.load(folder, backend="onnxruntime")`` and ``tamellm serve`` (backend auto, the
default) use it. Unlike ``tamellm compress`` it changes no weight and needs no data: the
same model on a faster CPU runtime (a graph-optimised session with fused layer-norm and
GELU kernels), measured at ~1.7x the PyTorch throughput of MiniLM micro-batches on 2 cores. The export is kept
under ``$TAMELLM_HOME/onnx`` keyed by the folder and its weight files' sizes and
mtimes, written to a temporary sibling and renamed, so a crash leaves no half entry.
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
from tamellm.paths import cache_dir
from tamellm.tasks.backends import BACKENDS, BackendNotApplicable

log = logging.getLogger(__name__)
MAX_LOGIT_DIFF = 1e-3  # fp32 kernels differ in summation order only; more than this is a broken export
PARITY_TEXTS = [
    "The service was quick and the staff were friendly.", "I waited an hour and nobody answered.",
    "Prices went up again this quarter.", "What a wonderful surprise!", "ok",
    "The update broke the app; it crashes every time I open the settings page, and support never replied.",
]


def twin_folder(resolved: ResolvedModel) -> Path:
    """The cache folder of ``resolved``'s ONNX twin (it may not exist yet)."""
    weights = sorted(resolved.path.glob("*.safetensors"))
    stamp = "|".join([str(resolved.path.resolve())] + [f"{p.name}:{p.stat().st_size}:{p.stat().st_mtime_ns}"
                                                        for p in weights])
    return cache_dir("onnx") / f"{resolved.path.name}-{hashlib.sha256(stamp.encode()).hexdigest()[:12]}"


def ensure_twin(resolved: ResolvedModel) -> Path:
    """Export ``resolved`` (a transformers classifier) to its twin folder on first use; return the folder."""
    target = twin_folder(resolved)
    if (target / ONNX_FILE).exists():
        return target
    from tamellm.models.onnx_graph import export, parity
    from tamellm.tasks.loading import read_weights

    loaded = read_weights(resolved)
    model, tokenizer = loaded.model.eval(), loaded.tokenizer
    log.info("exporting %s to ONNX for onnxruntime (once) in %s", resolved.name, target)
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=target.parent))
    try:
        names = export(model, tokenizer, tmp / ONNX_FILE)
        check = parity(model, OnnxModel(tmp / ONNX_FILE, model.config), tokenizer, PARITY_TEXTS, 512)
        if check["max_abs_logit_diff"] > MAX_LOGIT_DIFF or check["argmax_agreement"] < 1:
            raise CompressionError(f"The ONNX export of {resolved.name} does not match it: {check}",
                                   "serve it with the default backend (transformers)")
        model.config.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        manifest = {"task": "classify", "kind": "onnx", "source": str(resolved.path),
                    "onnx": {"precision": "fp32", "inputs": names, "parity": check}}
        (tmp / "tamellm.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
        try:
            tmp.rename(target)
        except OSError:  # another server worker exported it meanwhile: keep theirs
            if not (target / ONNX_FILE).exists():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


@BACKENDS.register("onnxruntime")
def load_for(resolved: ResolvedModel, task: str, explicit: bool):
    """The backends registry's entry: the classifier on ONNX Runtime, under its own name."""
    if task != "classify" or resolved.kind != "transformers":
        if explicit:
            raise BackendNotApplicable(f"The onnxruntime backend runs fine-tuned classifiers; '{resolved.name}' is a "
                             f"{resolved.kind} model for task '{task}'", "drop backend= for this model")
        return None
    from tamellm.models.folder import inspect_folder
    from tamellm.tasks.loading import build_task_model

    folder = ensure_twin(resolved)
    twin = ResolvedModel(resolved.name, folder, "onnx", "classify", resolved.source, info=inspect_folder(folder))
    return build_task_model(twin, "classify")
