"""Full fine-tuning: every weight trains."""

from tamellm.training.strategies.base import Strategy, register


@register("full")
class Full(Strategy):
    """All parameters train (the strongest, slowest strategy)."""

    default_learning_rate = 5e-5
