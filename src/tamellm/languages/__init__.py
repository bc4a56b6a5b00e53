"""Languages of the user's text: which language it is in (``detect``) and its words (``words``)."""

from tamellm.languages.detect import detect_language, script_counts
from tamellm.languages.words import is_chinese, lexical_tokens, word_spans

__all__ = ["detect_language", "is_chinese", "lexical_tokens", "script_counts", "word_spans"]
