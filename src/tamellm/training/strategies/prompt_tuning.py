"""Prompt tuning (peft): trained virtual tokens before the input; the base model stays frozen.

Virtual tokens cannot be merged into the weights, so the model folder holds the peft
adapter (adapter_config.json + adapter_model.safetensors), the base config and a
tamellm.json of kind "peft" that tells ``tamellm.models.peft_loader`` to attach it.
"""

from typing import Any

import torch

from tamellm.training.strategies.base import Strategy, register


@register("prompt-tuning")
class PromptTuning(Strategy):
    """peft PromptTuningConfig with ``num_virtual_tokens`` (randomly initialised)."""

    default_learning_rate = 3e-2
    kind = "peft"
    tasks = ("classify", "generate")  # the NER pipeline cannot run a peft-wrapped model

    def peft_config(self, adapter: Any) -> Any:
        from peft import PromptTuningConfig

        return PromptTuningConfig(task_type=adapter.peft_task_type,
                                  num_virtual_tokens=int(self.params["num_virtual_tokens"]))

    def apply(self, model: torch.nn.Module, adapter: Any) -> torch.nn.Module:
        from peft import get_peft_model

        return get_peft_model(model, self.peft_config(adapter))
