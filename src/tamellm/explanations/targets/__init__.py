"""One module per task: each builds a ``Target`` (see ``tamellm.explanations.target``)."""

from tamellm.explanations.targets import classify, generate, ner, spacy_ner, zero_shot  # noqa: F401
