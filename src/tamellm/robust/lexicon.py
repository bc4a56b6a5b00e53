"""Word knowledge the perturbations and the attack need: synonyms, parts of speech, stopwords.

Synonyms come from WordNet when Debian's ``wordnet-base`` (``/usr/share/wordnet``, or
``$TAMELLM_WORDNET``) is installed, else from the nearest neighbours of a word in the
model's own input embeddings. The WordNet files are read directly: nltk's
``WordNetCorpusReader`` needs a ``lexnames`` file that Debian's package lacks and its
path sandbox refuses ``/usr/share``, and the index/data format is a documented
line-per-lemma text format (wndb(5WN)) that takes a few lines to read.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

logger = logging.getLogger(__name__)

WORDNET_DIRS = ("/usr/share/wordnet",)
POS_FILES = {"noun": "noun", "verb": "verb", "adj": "adj", "adv": "adv"}
SENSES = 2  # synonyms from the most frequent senses only: rarer senses drift in meaning

STOPWORDS = frozenset("""
a an the and or but if then else of at by for with about against between into through during before after above
below to from up down in out on off over under again further once here there when where why how all any both each
few more most other some such no nor not only own same so than too very s t can will just don should now i me my
myself we our ours ourselves you your yours yourself yourselves he him his himself she her hers herself it its itself
they them their theirs themselves what which who whom this that these those am is are was were be been being have has
had having do does did doing would could ought n't 's 're 've 'll 'd 'm as until while because
""".split())


def wordnet_dir() -> Path | None:
    """The WordNet dict folder (``$TAMELLM_WORDNET`` or Debian's ``wordnet-base``), or None when absent."""
    candidates = [os.environ["TAMELLM_WORDNET"]] if os.environ.get("TAMELLM_WORDNET") else list(WORDNET_DIRS)
    for folder in map(Path, candidates):
        if (folder / "index.noun").is_file() and (folder / "data.noun").is_file():
            return folder
    return None


class WordNet:
    """Synonyms and parts of speech from a WordNet 3.0 dict folder (index.POS + data.POS files)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._index: dict[str, dict[str, list[int]]] = {}

    def _pos_index(self, pos: str) -> dict[str, list[int]]:
        if pos not in self._index:
            table: dict[str, list[int]] = {}
            with open(self.folder / f"index.{POS_FILES[pos]}", encoding="utf-8") as handle:
                for line in handle:
                    if line.startswith(" "):  # the licence header
                        continue
                    fields = line.split()
                    # lemma pos synset_cnt p_cnt [ptr_symbol]*p_cnt sense_cnt tagsense_cnt offset*synset_cnt
                    count, pointers = int(fields[2]), int(fields[3])
                    table[fields[0]] = [int(x) for x in fields[6 + pointers:6 + pointers + count]]
            self._index[pos] = table
        return self._index[pos]

    def parts_of_speech(self, word: str) -> set[str]:
        """The parts of speech WordNet knows ``word`` as (lower-cased, spaces as underscores)."""
        key = word.lower()
        return {pos for pos in POS_FILES if key in self._pos_index(pos)}

    def synonyms(self, word: str, pos: str | None = None) -> list[str]:
        """Single-word synonyms of ``word`` from its most frequent senses, most frequent sense first."""
        key = word.lower()
        found: list[str] = []
        for part in [pos] if pos else list(POS_FILES):
            offsets = self._pos_index(part).get(key, [])[:SENSES]
            if not offsets:
                continue
            with open(self.folder / f"data.{POS_FILES[part]}", "rb") as handle:
                for offset in offsets:
                    handle.seek(offset)
                    fields = handle.readline().decode("utf-8").split()
                    # offset lex_filenum ss_type w_cnt(hex) [word lex_id]*w_cnt ...
                    for i in range(int(fields[3], 16)):
                        lemma = fields[4 + 2 * i].split("(")[0].lower()
                        if lemma != key and "_" not in lemma and "-" not in lemma and lemma not in found:
                            found.append(lemma)
        return found


@lru_cache(maxsize=4)
def _wordnet(folder: str) -> WordNet:
    return WordNet(Path(folder))


def load_wordnet() -> WordNet | None:
    """The shared WordNet reader, or None (with a log line saying how to get it) when it is not installed."""
    folder = wordnet_dir()
    if folder is None:
        logger.warning("WordNet not found (%s): synonyms come from the model's embedding neighbours instead; "
                       "install it with: apt-get install wordnet-base", ", ".join(WORDNET_DIRS))
        return None
    return _wordnet(str(folder))


def embedding_neighbours(model: object, k: int = 8) -> Callable[[str], list[str]] | None:
    """``word -> nearest whole-word tokens`` by cosine in the model's input embeddings (None without them).

    The fallback for synonyms when WordNet is absent: neighbours in a sub-word embedding
    table are looser than WordNet synonyms (antonyms and related words appear too).
    """
    import torch

    module = getattr(model, "model", None)
    tokenizer = getattr(model, "tokenizer", None)
    get = getattr(module, "get_input_embeddings", None)
    if get is None or tokenizer is None:
        return None
    weights = get().weight.detach().float()
    vocab = tokenizer.get_vocab()
    words = [(token, index) for token, index in vocab.items() if token.isalpha() and len(token) > 2]
    if not words:
        return None
    ids = torch.tensor([index for _, index in words])
    table = torch.nn.functional.normalize(weights[ids], dim=-1)
    position = {token: i for i, (token, _) in enumerate(words)}

    @lru_cache(maxsize=4096)
    def neighbours(word: str) -> list[str]:
        row = position.get(word.lower())
        if row is None:
            return []
        scores = table @ table[row]
        best = scores.topk(min(k + 1, len(words))).indices.tolist()
        return [words[i][0] for i in best if i != row][:k]

    return neighbours
