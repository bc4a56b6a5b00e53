"""The "compressed" model folder: safetensors plus the recipe to rebuild the layers, no pickle.

A torch model changed by tamellm's compressors (dynamic int8, low-rank factors,
structurally pruned heads / FFN neurons) cannot be saved as a plain transformers folder:
its layers no longer match its config, and a quantized torch module only saves through
pickle. So a compressed folder holds:

- ``config.json`` and the tokenizer files of the source model;
- ``compressed.safetensors``: the tensors of the changed model; an int8 Linear or
  Embedding weight is stored as its int8 values plus ``<name>.weight.scale`` (and
  ``.zero_point`` / ``.axis`` for a Linear), everything else as float32;
- ``tamellm.json``: ``{"kind": "compressed", "task": ..., "compress": {"transforms": [...]}}``.

Loading builds the model from its config, replays the transforms in order (shrink the
pruned layers, split the factorized ones, quantize) and loads the tensors: fast,
deterministic and the same model that was measured when it was chosen.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn

from tamellm.errors import ModelFormatError
from tamellm.registry import Registry

log = logging.getLogger(__name__)

WEIGHTS = "compressed.safetensors"
KIND = "compressed"


# --- structural transforms, replayed at load time -------------------------------------------

def set_module(model: nn.Module, name: str, module: nn.Module) -> None:
    parent_name, _, child = name.rpartition(".")
    setattr(model.get_submodule(parent_name) if parent_name else model, child, module)


def _linear(in_features: int, out_features: int, bias: bool) -> nn.Linear:
    return nn.Linear(in_features, out_features, bias=bias)


def encoder_layers(model: nn.Module) -> list[nn.Module]:
    """The transformer blocks of a BERT-style encoder (BERT, MiniLM, RoBERTa, ...), or []."""
    base = getattr(model, "base_model", model)
    layers = getattr(getattr(base, "encoder", None), "layer", None)
    if layers is None:
        return []
    needed = ("attention.self.query", "attention.output.dense", "intermediate.dense", "output.dense")
    names = {n for n, _ in layers[0].named_modules()} if len(layers) else set()
    return list(layers) if all(n in names for n in needed) else []


def shrink_layer(layer: nn.Module, heads: int, ffn: int) -> None:
    """Resize one BERT-style block to ``heads`` attention heads and ``ffn`` FFN neurons (new, empty weights)."""
    attn = layer.attention.self
    head_dim = attn.attention_head_size
    hidden = attn.query.in_features
    for proj in ("query", "key", "value"):
        setattr(attn, proj, _linear(hidden, heads * head_dim, True))
    attn.num_attention_heads = heads
    attn.all_head_size = heads * head_dim
    layer.attention.output.dense = _linear(heads * head_dim, hidden, True)
    layer.intermediate.dense = _linear(hidden, ffn, True)
    layer.output.dense = _linear(ffn, hidden, True)


def factorized(in_features: int, out_features: int, rank: int, bias: bool) -> nn.Sequential:
    """A Linear split in two: ``in -> rank`` (no bias) then ``rank -> out``."""
    return nn.Sequential(_linear(in_features, rank, False), _linear(rank, out_features, bias))


def _rebuild_pruned(model: nn.Module, params: dict) -> nn.Module:
    layers = encoder_layers(model)
    for index, sizes in params["layers"].items():
        shrink_layer(layers[int(index)], int(sizes["heads"]), int(sizes["ffn"]))
    return model


def _rebuild_low_rank(model: nn.Module, params: dict) -> nn.Module:
    for name, rank in params["ranks"].items():
        old = model.get_submodule(name)
        set_module(model, name, factorized(old.in_features, old.out_features, int(rank), old.bias is not None))
    return model


# Layers left in float32 by int8 quantization: the task head and BERT's pooler are a tiny share of
# the compute, and their rounding error lands directly on the logits.
HEAD_LAYERS = ("classifier", "pooler", "score", "lm_head")


def is_head_layer(name: str) -> bool:
    """Whether the module called ``name`` belongs to the task head (kept float32 when quantizing)."""
    return any(part in HEAD_LAYERS for part in name.split("."))


def quantize_int8(model: nn.Module) -> nn.Module:
    """torch dynamic int8 quantization of the encoder's nn.Linear layers (one weight scale per tensor).

    Per-tensor, not per-channel: on this CPU's default "x86" engine per-channel int8 Linear
    measured slower than float32, per-tensor faster (bench/compress_sst2.py).
    """
    from torch.ao.quantization import default_dynamic_qconfig, quantize_dynamic

    spec = {name: default_dynamic_qconfig for name, module in model.named_modules()
            if isinstance(module, nn.Linear) and not is_head_layer(name)}
    with warnings.catch_warnings():  # torch.ao's deprecation notice (torchao is its successor), once per layer
        warnings.simplefilter("ignore", UserWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        return quantize_dynamic(model, spec, dtype=torch.qint8)


# Structural transforms by name; "dynamic-int8" is applied after the tensors are loaded.
REBUILD: Registry[Callable[[nn.Module, dict], nn.Module]] = Registry("rebuild", "structural transform")
REBUILD.register("prune-structure", _rebuild_pruned)
REBUILD.register("low-rank", _rebuild_low_rank)


# --- saving -------------------------------------------------------------------------------

def _is_qlinear(module: nn.Module) -> bool:
    from torch.ao.nn.quantized.dynamic import Linear as QLinear

    return isinstance(module, QLinear)


def model_tensors(model: nn.Module, int8_embeddings: bool) -> dict[str, torch.Tensor]:
    """The tensors to save: int8 Linear/Embedding weights with their scales, the rest float32."""
    tensors: dict[str, torch.Tensor] = {}
    quantized = set()
    for name, module in model.named_modules():
        if _is_qlinear(module):
            quantized.add(name)
            weight, bias = module._weight_bias()
            tensors[f"{name}.weight"] = weight.int_repr().clone()
            if weight.qscheme() in (torch.per_channel_affine, torch.per_channel_symmetric):
                tensors[f"{name}.weight.scale"] = weight.q_per_channel_scales().float().clone()
                tensors[f"{name}.weight.zero_point"] = weight.q_per_channel_zero_points().clone()
                tensors[f"{name}.weight.axis"] = torch.tensor(weight.q_per_channel_axis())
            else:
                tensors[f"{name}.weight.scale"] = torch.tensor([weight.q_scale()], dtype=torch.float32)
                tensors[f"{name}.weight.zero_point"] = torch.tensor([weight.q_zero_point()])
            if bias is not None:
                tensors[f"{name}.bias"] = bias.detach().float().clone()
        elif int8_embeddings and isinstance(module, nn.Embedding):
            # Weight-only int8 storage, one scale per row (symmetric): 4x smaller on disk,
            # dequantized to float32 at load (torch has no fast int8 lookup for a plain forward).
            weight = module.weight.detach().float()
            scale = weight.abs().amax(dim=1).clamp(min=1e-12) / 127.0
            tensors[f"{name}.weight"] = torch.round(weight / scale[:, None]).to(torch.int8)
            tensors[f"{name}.weight.scale"] = scale
            quantized.add(name)
    for key, value in model.state_dict().items():
        owner = key.rpartition(".")[0]
        if "_packed_params" in key or owner in quantized or not isinstance(value, torch.Tensor):
            continue
        if owner.endswith("_packed_params"):
            continue
        tensors[key] = value.detach().clone().contiguous()
    return tensors


def save_compressed(model: nn.Module, out: Path, transforms: list[dict]) -> None:
    """Write ``model`` (changed by ``transforms``) into the folder ``out`` as WEIGHTS + config.json."""
    from safetensors.torch import save_file

    int8 = any(t["method"] == "dynamic-int8" for t in transforms)
    save_file(model_tensors(model, int8_embeddings=int8), str(out / WEIGHTS), metadata={"format": "pt"})
    model.config.save_pretrained(out)


# --- loading ------------------------------------------------------------------------------

def _dequantize(tensors: dict[str, torch.Tensor]) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    """Float32 state dict for ``load_state_dict`` and the exact int8 Linear weights to restore."""
    state, exact = {}, {}
    for key, value in tensors.items():
        if key.endswith((".weight.scale", ".weight.zero_point", ".weight.axis")):
            continue
        scale = tensors.get(f"{key}.scale")
        if scale is None:
            state[key] = value
            continue
        zero = tensors.get(f"{key}.zero_point")
        if zero is None:  # an int8 embedding: one scale per row
            state[key] = value.float() * scale[:, None]
            continue
        axis = tensors.get(f"{key}.axis")
        if axis is not None:
            q = torch._make_per_channel_quantized_tensor(value, scale.double(), zero.long(), int(axis))
        else:
            q = torch._make_per_tensor_quantized_tensor(value, float(scale[0]), int(zero[0]))
        exact[key] = q
        state[key] = q.dequantize()
    return state, exact


def build_compressed(folder: Path, task: str, manifest: dict) -> nn.Module:
    """Rebuild the torch model of a compressed folder (config -> transforms -> tensors)."""
    from safetensors.torch import load_file
    from transformers import AutoConfig

    from tamellm.models.loaders import _transformers_class

    transforms = manifest.get("compress", {}).get("transforms", [])
    config = AutoConfig.from_pretrained(folder)
    model = _transformers_class(task).from_config(config)
    for step in transforms:
        if step["method"] in REBUILD:
            model = REBUILD[step["method"]](model, step.get("params", {}))
        elif step["method"] != "dynamic-int8":
            raise ModelFormatError(f"{folder / 'tamellm.json'} names an unknown transform '{step['method']}'",
                                   f"known: {', '.join([*REBUILD, 'dynamic-int8'])}; re-run tamellm compress")
    state, exact = _dequantize(load_file(str(folder / WEIGHTS)))
    missing, unexpected = model.load_state_dict(state, strict=False)
    if unexpected or [m for m in missing if not m.endswith("position_ids")]:
        raise ModelFormatError(f"{folder / WEIGHTS} does not match its recipe in tamellm.json "
                               f"(missing {missing[:3]}, unexpected {unexpected[:3]})",
                               "the folder is corrupt or was edited; re-run tamellm compress")
    if any(t["method"] == "dynamic-int8" for t in transforms):
        model = quantize_int8(model)
        for name, module in model.named_modules():
            if _is_qlinear(module) and f"{name}.weight" in exact:
                _, bias = module._weight_bias()
                module.set_weight_bias(exact[f"{name}.weight"], bias)
    return model.eval()


def load_compressed(resolved):
    """The LOADERS entry for kind "compressed": rebuild the model, load the source's tokenizer."""
    from transformers import AutoTokenizer

    from tamellm.models.loaders import LoadedModel, prepare_transformers

    prepare_transformers()
    folder = Path(resolved.path)
    manifest = resolved.info.manifest if resolved.info else {}
    if not (folder / WEIGHTS).exists():
        raise ModelFormatError(f"Compressed model folder {folder} has no {WEIGHTS}",
                               "re-run tamellm compress to write it again")
    try:
        tokenizer = AutoTokenizer.from_pretrained(folder)
        model = build_compressed(folder, resolved.task, manifest)
    except (OSError, ValueError, KeyError, RuntimeError) as exc:
        raise ModelFormatError(f"Compressed model folder {folder} could not be loaded: {str(exc).splitlines()[0]}",
                               "re-run tamellm compress to write it again") from exc
    positions = getattr(model.config, "max_position_embeddings", None)
    if isinstance(positions, int) and positions > 0 and (tokenizer.model_max_length or 0) > positions:
        tokenizer.model_max_length = positions
    return LoadedModel(resolved, model, tokenizer)
