"""Training strategies, one module each; ``STRATEGIES`` maps a name to its class."""

from tamellm.training.strategies import few_shot, full, head_only, lora, prefix_tuning, prompt_tuning  # noqa: F401
from tamellm.training.strategies.base import STRATEGIES, Strategy, register

__all__ = ["STRATEGIES", "Strategy", "register"]
