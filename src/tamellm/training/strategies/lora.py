"""LoRA (peft): low-rank adapters on the attention projections; merged before saving."""

from typing import Any

import torch

from tamellm.training.strategies.base import Strategy, register


@register("lora")
class Lora(Strategy):
    """peft LoRA with rank / alpha / dropout from the params; the task head trains fully."""

    default_learning_rate = 5e-4
    sentence_pooling = True  # on a sentence-transformers base the head reads the embedding the body was trained for

    def apply(self, model: torch.nn.Module, adapter: Any) -> torch.nn.Module:
        from peft import LoraConfig, get_peft_model

        from tamellm.models.mean_pooling import lora_targets
        from tamellm.training.strategies.linear_head import start_head

        # Linear probing, then fine-tuning (LP-FT, Kumar et al. 2022): the head starts at the logistic
        # regression on the untouched encoder's features, so the adapters do not first chase a random head.
        start_head(model, adapter, self.resources, self.base_key, int(self.params.get("seed", 0)),
                   self.head_deadline())
        targets = self.params.get("lora_target_modules")
        if targets is None:
            targets = lora_targets(model.config.model_type)

        config = LoraConfig(task_type=adapter.peft_task_type, r=int(self.params["lora_r"]),
                            lora_alpha=int(self.params["lora_alpha"]),
                            lora_dropout=float(self.params["lora_dropout"]),
                            target_modules=targets,
                            # an untrained pooler (sentence-transformers checkpoints) must train with the head
                            modules_to_save=["pooler"] if any(n.endswith("pooler") for n, _ in
                                                              model.named_modules()) else None)
        return get_peft_model(model, config)

    def export(self, model: torch.nn.Module) -> torch.nn.Module:
        # merge_and_unload folds the adapters into the weights: the folder loads with plain transformers.
        return model.merge_and_unload()
