"""Prefix tuning (peft): trained key/value prefixes in every layer; saved as a peft adapter folder."""

from typing import Any

from tamellm.training.strategies.base import register
from tamellm.training.strategies.prompt_tuning import PromptTuning


@register("prefix-tuning")
class PrefixTuning(PromptTuning):
    """peft PrefixTuningConfig with ``num_virtual_tokens`` prefixes."""

    default_learning_rate = 1e-2

    def peft_config(self, adapter: Any) -> Any:
        from peft import PrefixTuningConfig

        return PrefixTuningConfig(task_type=adapter.peft_task_type,
                                  num_virtual_tokens=int(self.params["num_virtual_tokens"]))
