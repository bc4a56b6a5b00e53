"""One module per task: each builds a ``Target`` (see ``tamellm.explain.target``)."""

from tamellm.explain.targets import classify, generate, ner, spacy_ner, zero_shot  # noqa: F401
