"""The task classes for peft adapter folders (kind "peft"): the same predict as plain folders."""

from tamellm.tasks.base import register
from tamellm.tasks.generate import Generator
from tamellm.tasks.text_classification import TextClassifier


@register("classify", kinds=("peft",))
class PeftTextClassifier(TextClassifier):
    """A classifier whose model is a base model with a prompt- or prefix-tuning adapter."""


@register("generate", kinds=("peft",))
class PeftGenerator(Generator):
    """A chat model with a prompt- or prefix-tuning adapter (peft's generate prepends the virtual tokens)."""
