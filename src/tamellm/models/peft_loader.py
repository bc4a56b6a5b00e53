"""Loading a peft adapter folder written by tamellm (prompt / prefix tuning): base model + adapter.

The folder holds adapter_config.json, adapter_model.safetensors, the base config.json
(labels) and tamellm.json with ``base_model_path`` (or ``base_model``, a catalog name).
"""

from __future__ import annotations

from pathlib import Path

from tamellm.errors import ModelFormatError
from tamellm.models.loaders import LoadedModel, _transformers_class
from tamellm.models.resolve import ResolvedModel


def _base_path(resolved: ResolvedModel) -> Path:
    manifest = resolved.info.manifest if resolved.info else {}
    path = manifest.get("base_model_path")
    if path and Path(path).is_dir():
        return Path(path)
    if manifest.get("base_model"):
        from tamellm.models.resolve import resolve

        return resolve(manifest["base_model"]).path
    raise ModelFormatError(f"Adapter folder {resolved.path} does not say which base model it needs",
                           "tamellm.json needs base_model_path or base_model")


def load_peft(resolved: ResolvedModel) -> LoadedModel:
    """The base model with the folder's adapter attached, in eval mode."""
    from peft import PeftModel
    from transformers import AutoConfig, AutoTokenizer

    folder = resolved.path
    if not (folder / "adapter_config.json").is_file():
        raise ModelFormatError(f"Adapter folder {folder} has no adapter_config.json",
                               "re-train, or point at the run's model/ folder")
    base = _base_path(resolved)
    config = AutoConfig.from_pretrained(folder)
    model = _transformers_class(resolved.task).from_pretrained(base, config=config, use_safetensors=True,
                                                               ignore_mismatched_sizes=True)
    model = PeftModel.from_pretrained(model, folder)
    model.eval()
    return LoadedModel(resolved, model, AutoTokenizer.from_pretrained(folder))
