"""Attribution methods on a tiny classifier trained in the test on a learnable toy task.

The toy task: a sentence is positive when it contains "good", negative when it contains
"bad"; every other word is noise. A third of the sentences have neither word and a coin
flip for a label, so the model must learn both words (not "bad, else positive"). A
model trained on it puts its weight on those words, and a faithful method ranks them first.
"""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest
import torch

NOISE = ["the", "movie", "was", "plot", "actors", "film", "story", "really", "quite", "very", "and", "a", "it",
         "seemed", "overall", "acting", "music", "ending", "long", "script"]


def toy_sentences(n: int, seed: int, neutral: bool = False) -> tuple[list[str], list[int]]:
    """Sentences of 4-9 noise words with "good" (label 1) or "bad" (label 0) somewhere, or neither."""
    rng = random.Random(seed)
    texts, labels = [], []
    for i in range(n):
        words = rng.choices(NOISE, k=rng.randint(4, 9))
        label = rng.randint(0, 1)
        if not neutral or i % 3:
            words.insert(rng.randint(0, len(words)), "good" if label else "bad")
        texts.append(" ".join(words))
        labels.append(label)
    return texts, labels


def toy_tokenizer():
    """A WordPiece tokenizer trained on the toy vocabulary (plus a few split words)."""
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.decoder = decoders.WordPiece()
    corpus = toy_sentences(300, 99)[0] + ["good bad"] * 20
    tok.train_from_iterator(corpus, trainers.WordPieceTrainer(vocab_size=120, special_tokens=specials))
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=[("[CLS]", tok.token_to_id("[CLS]")),
                                                 ("[SEP]", tok.token_to_id("[SEP]"))])
    return PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]",
                                   sep_token="[SEP]", mask_token="[MASK]")


def toy_model(tokenizer, seed: int = 0):
    """A 2-layer, hidden-32 BERT classifier with labels negative / positive (random weights)."""
    from transformers import BertConfig, BertForSequenceClassification

    torch.manual_seed(seed)
    config = BertConfig(vocab_size=len(tokenizer), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=64, pad_token_id=tokenizer.pad_token_id,
                        id2label={0: "negative", 1: "positive"}, label2id={"negative": 0, "positive": 1})
    return BertForSequenceClassification(config)


def train_toy_classifier(folder: Path, steps: int = 120, seed: int = 0) -> Path:
    """Train the toy classifier for a few dozen steps and save it as a model folder."""
    tokenizer = toy_tokenizer()
    model = toy_model(tokenizer, seed)
    texts, labels = toy_sentences(640, seed, neutral=True)
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    model.train()
    for step in range(steps):
        lo = (step * 32) % len(texts)
        batch = tokenizer(texts[lo:lo + 32], padding=True, return_tensors="pt")
        loss = model(**batch, labels=torch.tensor(labels[lo:lo + 32])).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    model.eval()
    model.save_pretrained(folder, safe_serialization=True)
    tokenizer.save_pretrained(folder)
    return folder


def randomized_copy(trained: Path, folder: Path) -> Path:
    """The same architecture and tokenizer, weights re-initialised (Adebayo et al.'s model randomisation)."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(trained)
    model = toy_model(tokenizer, seed=123)
    model.save_pretrained(folder, safe_serialization=True)
    tokenizer.save_pretrained(folder)
    return folder


def shared_toy_classifier(tmp_path_factory) -> Path:
    """The toy classifier, trained once per test session and shared by the explain test modules."""
    folder = tmp_path_factory.getbasetemp() / "explain-toy-classifier"
    if not (folder / "model.safetensors").exists():
        torch.set_num_threads(2)
        staged = tmp_path_factory.mktemp("toy-staging")
        train_toy_classifier(staged)
        staged.rename(folder)
    return folder


@pytest.fixture(scope="module")
def toy_dir(tmp_path_factory) -> Path:
    return shared_toy_classifier(tmp_path_factory)


@pytest.fixture(scope="module")
def toy(toy_dir):
    import tamellm

    return tamellm.load(toy_dir)


# Gradient × input is left out on purpose: with its implicit zero baseline it can give the
# decisive word the wrong sign (the benchmark shows it barely beats random on SST-2).
SIGNED = ["integrated_gradients", "occlusion", "lime", "kernel_shap"]


def test_toy_classifier_learned_the_task(toy):
    texts, labels = toy_sentences(100, seed=7)
    predicted = [r.label for r in toy.predict(texts)]
    accuracy = np.mean([p == ["negative", "positive"][y] for p, y in zip(predicted, labels, strict=True)])
    assert accuracy >= 0.95


@pytest.mark.parametrize("method", SIGNED)
def test_signed_methods_rank_the_decisive_word_first(toy, method):
    from tamellm.api import explain

    for text, label, word in [("the movie was really good and long", "positive", "good"),
                              ("it seemed bad overall", "negative", "bad")]:
        result = explain(text, model=toy, method=method)
        assert result.label == label and result.method == method
        assert [w.word for w in result.words] == text.split()
        assert result.top(1)[0].word == word
        assert result.top(1)[0].score > 0


def test_explanation_toward_the_other_class_is_opposite(toy):
    result = toy.explain("the film was good", method="occlusion", all_labels=True)
    assert set(result.per_label) == {"negative", "positive"}
    good_pos = next(w.score for w in result.per_label["positive"] if w.word == "good")
    good_neg = next(w.score for w in result.per_label["negative"] if w.word == "good")
    assert good_pos > 0 > good_neg
    assert good_pos == pytest.approx(-good_neg, abs=1e-5)  # two classes: p(neg) = 1 - p(pos)


def test_integrated_gradients_is_complete(toy):
    """The word scores add up to p(text) - p(baseline) (captum's completeness axiom)."""
    from tamellm.explanations import build_target, explain_target
    from tamellm.explanations.integrated_gradients import word_baseline

    target = build_target(toy, "the acting was bad and the music long")
    result = explain_target(target, "integrated_gradients", n_steps=64)
    with torch.no_grad():
        gap = (target.forward_ids(target.input_ids) - target.forward_ids(word_baseline(target, target.pad_id)))
    expected = float(gap[0, target.outputs.index(result.label)])
    assert sum(w.score for w in result.words) == pytest.approx(expected, abs=0.03)


def test_occlusion_matches_removing_each_word_by_hand(toy):
    from tamellm.explanations import explain_target
    from tamellm.explanations.target import build_target

    text = "the plot was good"
    target = build_target(toy, text)
    result = explain_target(target, "occlusion")
    tokenizer, model = toy.tokenizer, toy.model
    ids = tokenizer(text, return_tensors="pt")["input_ids"]
    with torch.no_grad():
        full = model(input_ids=ids).logits.softmax(-1)[0, 1]
        for position, word in enumerate(result.words, start=1):  # one token per word here; [CLS] first
            masked = ids.clone()
            masked[0, position] = tokenizer.mask_token_id
            expected = full - model(input_ids=masked).logits.softmax(-1)[0, 1]
            assert word.score == pytest.approx(float(expected), abs=1e-5)


def test_attention_rollout_is_unsigned_and_sums_to_at_most_one(toy):
    result = toy.explain("the story was good", method="attention_rollout")
    assert not result.signed
    assert all(w.score >= 0 for w in result.words)
    assert 0 < sum(w.score for w in result.words) <= 1.0


def test_sanity_randomised_model_attributions_differ(toy_dir, tmp_path):
    """Adebayo et al.: a method must depend on the weights. Randomised model -> uncorrelated scores."""
    from scipy.stats import spearmanr

    import tamellm

    random_model = tamellm.load(randomized_copy(toy_dir, tmp_path / "random"))
    trained = tamellm.load(toy_dir)
    texts, _ = toy_sentences(8, seed=11)
    correlations, top_hits = [], 0
    for text in texts:
        a = trained.explain(text, method="integrated_gradients", label="positive")
        b = random_model.explain(text, method="integrated_gradients", label="positive")
        top_hits += a.top(1)[0].word in ("good", "bad") or a.words[np.argmin([w.score for w in a.words])].word in (
            "good", "bad")
        correlations.append(spearmanr([w.score for w in a.words], [w.score for w in b.words]).statistic)
    assert top_hits == len(texts)
    assert np.nanmean(np.abs(correlations)) < 0.4


def test_subword_pieces_are_merged_into_one_word(toy):
    result = toy.explain("the moviegoers said good", method="gradient_x_input")
    pieces = toy.tokenizer.tokenize("moviegoers")
    assert len(pieces) > 1  # the toy vocabulary splits it
    words = [w.word for w in result.words]
    assert words == ["the", "moviegoers", "said", "good"]
    merged = result.words[1]
    assert (merged.start, merged.end) == (4, 14)


def test_random_baseline_is_reproducible(toy):
    a = toy.explain("the film was good", method="random")
    b = toy.explain("the film was good", method="random")
    assert [w.score for w in a.words] == [w.score for w in b.words]


def test_json_shape(toy):
    data = toy.explain("the film was bad").to_dict()
    assert data["label"] == "negative" and data["method"] == "integrated_gradients"
    assert all(set(w) >= {"word", "score"} and isinstance(w["score"], float) for w in data["words"])
