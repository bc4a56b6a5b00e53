"""Low-rank factorization: each encoder Linear W (out x in) becomes B @ A by truncated SVD.

The rank is the smallest that keeps ``energy`` (default 0.9) of the squared singular
values, or ``rank_ratio`` times the full rank when given. A layer is only factorized
when the two factors have fewer parameters than W (``max_param_ratio``, default 0.8),
else it is kept. Saved as a "compressed" folder whose recipe lists every layer's rank.
"""

from __future__ import annotations

from pathlib import Path

import torch

from tamellm.compression.base import CompressContext, CompressionError, Compressor, register_compressor
from tamellm.compression.folders import load_source, require_fp32_layers, save_model
from tamellm.compression.pruning import encoder_linears
from tamellm.models.compressed_loader import factorized, set_module


def choose_rank(singular: torch.Tensor, energy: float, rank_ratio: float | None) -> int:
    """The rank that keeps ``energy`` of sum(s^2), or ``rank_ratio`` of the full rank."""
    if rank_ratio is not None:
        return max(1, round(rank_ratio * len(singular)))
    cumulative = (singular ** 2).cumsum(0) / (singular ** 2).sum()
    return int((cumulative < energy).sum()) + 1


@register_compressor("low-rank")
class LowRank(Compressor):
    """SVD factorization of encoder Linear layers at an energy or rank ratio."""

    description = "low-rank (SVD) factorization of Linear layers"

    def run(self, source: Path, out: Path, ctx: CompressContext) -> dict:
        loaded, transforms = load_source(source, self.name)
        require_fp32_layers(transforms, self.name, source)
        energy = float(self.params.get("energy", 0.9))
        ratio = self.params.get("rank_ratio")
        ratio = float(ratio) if ratio is not None else None
        max_param_ratio = float(self.params.get("max_param_ratio", 0.8))
        linears = encoder_linears(loaded.model)
        if not linears:
            raise CompressionError(f"Method '{self.name}' found no encoder Linear layers in {source}")
        ranks = {}
        for name, layer in linears:
            weight = layer.weight.detach().float()
            u, s, vh = torch.linalg.svd(weight, full_matrices=False)
            rank = choose_rank(s, energy, ratio)
            out_f, in_f = weight.shape
            if rank * (in_f + out_f) > max_param_ratio * in_f * out_f:
                continue
            root = s[:rank].sqrt()
            new = factorized(in_f, out_f, rank, layer.bias is not None)
            with torch.no_grad():
                new[0].weight.copy_(root[:, None] * vh[:rank])
                new[1].weight.copy_(u[:, :rank] * root[None, :])
                if layer.bias is not None:
                    new[1].bias.copy_(layer.bias)
            set_module(loaded.model, name, new)
            ranks[name] = rank
        if not ranks:
            raise CompressionError(
                f"Method '{self.name}' would not shrink any layer of {source} at energy {energy}",
                "its weights are close to full rank there: lower energy (e.g. 0.7) or set rank_ratio")
        transforms.append({"method": self.name, "params": {"ranks": ranks}})
        save_model(loaded, out, transforms, {})
        return {"energy": energy, "rank_ratio": ratio, "factorized": len(ranks), "of": len(linears)}
