"""Loading a peft adapter folder written by tamellm (prompt / prefix tuning): base model + adapter.

The folder holds adapter_config.json, adapter_model.safetensors, the base config.json
(labels), the tokenizer and tamellm.json, which names the frozen base model the adapter
needs: ``base_model``, a catalog name resolved on the machine that loads the folder, or
``base_model_path``, the ``base/`` sub-folder holding a copy of a base that is not in the
catalog (see ``train/artifact.py``). Folders written before the copy existed record an
absolute ``base_model_path``; it is used while that folder exists.
"""

from __future__ import annotations

from pathlib import Path

from tamellm.errors import ModelFormatError, ModelNotFoundError
from tamellm.models.loaders import LoadedModel, _transformers_class, prepare_transformers
from tamellm.models.resolve import ResolvedModel

BASE_DIR = "base"  # the sub-folder of an adapter folder holding its base model's config and weights


def _trainable_folder(name: str) -> Path:
    """The safetensors folder of a catalog name or folder (a GGUF base is converted once, as training did)."""
    from tamellm.models.gguf_cache import weights_folder
    from tamellm.models.resolve import resolve

    return weights_folder(resolve(name))


def base_folder(folder: Path, manifest: dict) -> Path:
    """The folder of the base model an adapter folder needs.

    Tried in order: ``base_model_path`` relative to the folder (the copied base), an
    absolute ``base_model_path`` that exists here, then ``base_model`` by name.
    """
    recorded = manifest.get("base_model_path")
    if recorded:
        path = Path(recorded)
        path = path if path.is_absolute() else folder / path
        if path.is_dir():
            return path
    name = manifest.get("base_model")
    if not name:
        raise ModelFormatError(f"Adapter folder {folder} does not say which base model it needs",
                               "tamellm.json needs base_model (a catalog name) or base_model_path")
    try:
        return _trainable_folder(str(name))
    except ModelNotFoundError as exc:
        where = f" (recorded path {recorded} does not exist here)" if recorded else ""
        raise ModelNotFoundError(
            f"Adapter folder {folder} needs its base model '{name}', which is not on this machine{where}: "
            f"{exc.message}",
            exc.hint or "install the base model, or re-train so that the folder carries its base in base/",
        ) from None


def load_peft(resolved: ResolvedModel) -> LoadedModel:
    """The base model with the folder's adapter attached, in eval mode."""
    from peft import PeftModel
    from transformers import AutoConfig, AutoTokenizer

    prepare_transformers()
    folder = resolved.path
    if not (folder / "adapter_config.json").is_file():
        raise ModelFormatError(f"Adapter folder {folder} has no adapter_config.json",
                               "re-train, or point at the run's model/ folder")
    manifest = resolved.info.manifest if resolved.info else {}
    base = base_folder(folder, manifest)
    config = AutoConfig.from_pretrained(folder)
    model = _transformers_class(resolved.task).from_pretrained(base, config=config, use_safetensors=True,
                                                               ignore_mismatched_sizes=True)
    # peft records the base's location in adapter_config.json; the base is passed in, so it is never read.
    model = PeftModel.from_pretrained(model, folder)
    model.eval()
    return LoadedModel(resolved, model, AutoTokenizer.from_pretrained(folder))
