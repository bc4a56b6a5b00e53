"""LoRA (peft): low-rank adapters on the attention projections; merged before saving."""

from typing import Any

import torch

from tamellm.training.strategies.base import Strategy, register


@register("lora")
class Lora(Strategy):
    """peft LoRA with rank / alpha / dropout from the params; the task head trains fully."""

    default_learning_rate = 5e-4

    def apply(self, model: torch.nn.Module, adapter: Any) -> torch.nn.Module:
        from peft import LoraConfig, get_peft_model

        config = LoraConfig(task_type=adapter.peft_task_type, r=int(self.params["lora_r"]),
                            lora_alpha=int(self.params["lora_alpha"]),
                            lora_dropout=float(self.params["lora_dropout"]),
                            target_modules=self.params.get("lora_target_modules"),
                            # an untrained pooler (sentence-transformers checkpoints) must train with the head
                            modules_to_save=["pooler"] if any(n.endswith("pooler") for n, _ in
                                                              model.named_modules()) else None)
        return get_peft_model(model, config)

    def export(self, model: torch.nn.Module) -> torch.nn.Module:
        # merge_and_unload folds the adapters into the weights: the folder loads with plain transformers.
        return model.merge_and_unload()
