"""A customer-service FAQ assistant built from a FAQ file.

    tamellm faq build faq.csv --output faq/
    tamellm faq ask faq/ "how do I reset my password?" --json

    >>> from tamellm.apps.faq import FaqAssistant
    >>> FaqAssistant.load("faq/").ask("how do I reset my password?").to_dict()

Retrieval is hybrid: dense vectors from an encoder (the catalog's default for the FAQ's language,
or ``multilingual-e5-small`` when it ranks questions made from a large FAQ better; through
``tamellm.embed``) and BM25 (bm25s), fused by a weighted sum whose weight is calibrated on the FAQ
itself. Below a threshold calibrated on the FAQ itself the assistant hands off to a person.
"""

from tamellm.apps.faq.assistant import FaqAnswer, FaqAssistant, FaqReply
from tamellm.apps.faq.build import BuildResult, build_faq
from tamellm.apps.faq.entries import FaqEntry, read_faq
from tamellm.apps.faq.evaluation import evaluate

__all__ = ["BuildResult", "FaqAnswer", "FaqAssistant", "FaqEntry", "FaqReply", "build_faq", "evaluate", "read_faq"]
