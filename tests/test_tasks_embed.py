"""Embeddings and similarity with a tiny random BERT encoder."""

from __future__ import annotations

import numpy as np
import pytest

import tamellm
from tamellm.results import Embeddings

TEXTS = [
    "hi",
    "The striker scored twice in the final match and the team won the cup after a long season " * 3,
    "a cat",
    "Markets fell sharply after the bank raised rates.",
    "ok",
    "Angela Merkel met the president in Berlin, and later Barack Obama visited Paris in the spring.",
]


def test_embed_shape_order_and_normalisation(tiny_bert_dir):
    result = tamellm.embed(TEXTS, model=tiny_bert_dir)
    assert isinstance(result, Embeddings)
    assert result.texts == TEXTS
    assert result.vectors.shape == (len(TEXTS), 32)
    assert result.vectors.dtype == np.float32
    assert result.dim == 32 and len(result) == len(TEXTS)
    assert result.model == tiny_bert_dir.name
    np.testing.assert_allclose(np.linalg.norm(result.vectors, axis=1), 1.0, atol=1e-5)
    np.testing.assert_array_equal(result[2], result.vectors[2])


def test_batched_equals_one_by_one_whatever_the_lengths(tiny_bert_dir):
    model = tamellm.load(tiny_bert_dir)
    batched = model.encode(TEXTS, batch_size=2)
    alone = np.stack([model.encode([t], batch_size=1)[0] for t in TEXTS])
    np.testing.assert_allclose(batched, alone, atol=1e-5)
    # Distinct texts give distinct rows: the rows were put back in input order, not sorted order.
    assert not np.allclose(batched[0], batched[1])


def test_single_text_gives_one_row(tiny_bert_dir):
    one = tamellm.embed("a cat", model=tiny_bert_dir)
    assert one.vectors.shape == (1, 32)
    np.testing.assert_allclose(one[0], tamellm.embed(TEXTS, model=tiny_bert_dir)[2], atol=1e-5)


def test_unnormalised_vectors_are_the_raw_mean(tiny_bert_dir):
    raw = tamellm.embed(TEXTS, model=tiny_bert_dir, normalize=False).vectors
    unit = tamellm.embed(TEXTS, model=tiny_bert_dir).vectors
    norms = np.linalg.norm(raw, axis=1)
    assert not np.allclose(norms, 1.0)
    np.testing.assert_allclose(raw / norms[:, None], unit, atol=1e-5)


def test_text_longer_than_the_position_table_is_truncated(tiny_bert_dir):
    # The tiny tokenizer declares no length limit; the model has a small position table.
    positions = tamellm.load(tiny_bert_dir).model.config.max_position_embeddings
    long = " ".join(["word"] * (positions * 3))
    vectors = tamellm.embed([long, "short"], model=tiny_bert_dir).vectors
    assert vectors.shape == (2, 32)
    assert np.isfinite(vectors).all()


def test_similarity_float_for_two_texts_matrix_for_lists(tiny_bert_dir):
    same = tamellm.similarity("a cat sits on the mat", "a cat sits on the mat", model=tiny_bert_dir)
    assert isinstance(same, float)
    assert same == pytest.approx(1.0, abs=1e-5)
    other = tamellm.similarity("a cat sits on the mat", "Markets fell sharply", model=tiny_bert_dir)
    assert isinstance(other, float) and -1.0 <= other < 1.0

    left, right = TEXTS[:2], TEXTS[2:5]
    matrix = tamellm.similarity(left, right, model=tiny_bert_dir)
    assert isinstance(matrix, np.ndarray) and matrix.shape == (2, 3)
    vectors = tamellm.embed(TEXTS, model=tiny_bert_dir).vectors
    np.testing.assert_allclose(matrix, vectors[:2] @ vectors[2:5].T, atol=1e-5)


def test_a_classifier_folder_embeds_through_its_encoder(tiny_classifier_dir):
    result = tamellm.embed(["great phone", "awful film"], model=tiny_classifier_dir)
    assert result.vectors.shape == (2, 32)
