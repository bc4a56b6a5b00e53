"""Faithfulness (ERASER), method comparison and the global view, on the trained toy classifier."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from test_explain_methods import shared_toy_classifier, toy_sentences

import tamellm
from tamellm.explanations import build_target
from tamellm.explanations.faithfulness import erase_scores, evaluate_method


@pytest.fixture(scope="module")
def toy_dir(tmp_path_factory):
    return shared_toy_classifier(tmp_path_factory)


@pytest.fixture(scope="module")
def texts():
    return toy_sentences(10, seed=5)[0]


def test_erase_scores_follow_the_definition(toy_dir):
    model = tamellm.load(toy_dir)
    target = build_target(model, "the film was good and long")  # 6 words
    scores = np.array([0.0, 0.1, 0.0, 0.9, 0.0, 0.0])  # "good" first, then "film"
    comp, suff = erase_scores(target, scores, output=1, bins=(0.1, 0.5))
    full = target.probabilities[1]
    without_good = target.forward_presence(torch.tensor([[1.0, 1, 1, 0, 1, 1]]))[0, 1]
    only_top3 = target.forward_presence(torch.tensor([[1.0, 1, 0, 1, 0, 0]]))[0, 1]  # good, film, then "the"
    assert comp[0] == pytest.approx(full - float(without_good), abs=1e-6)
    assert suff[1] == pytest.approx(full - float(only_top3), abs=1e-6)


def test_real_methods_beat_random(toy_dir, texts):
    model = tamellm.load(toy_dir)
    ig = evaluate_method(model, texts, "integrated_gradients")
    rnd = evaluate_method(model, texts, "random")
    assert ig.texts == rnd.texts == len(texts)
    assert ig.comprehensiveness > rnd.comprehensiveness + 0.2
    assert ig.sufficiency < rnd.sufficiency - 0.1
    assert set(ig.per_bin) == {"1%", "5%", "10%", "20%", "50%"}


def test_compare_ranks_methods_with_random_last(toy_dir, texts):
    rows = tamellm.api.compare_explainers(str(toy_dir), texts,
                                          methods=["occlusion", "integrated_gradients", "attention_rollout"])
    names = [r["method"] for r in rows]
    assert set(names) == {"occlusion", "integrated_gradients", "attention_rollout", "random"}
    assert names[-1] == "random"
    margins = [r["comprehensiveness"] - r["sufficiency"] for r in rows]
    assert margins == sorted(margins, reverse=True)


def test_global_view_finds_the_decisive_words_and_a_faithful_surrogate(toy_dir):
    data = toy_sentences(120, seed=21)[0]
    result = tamellm.api.global_explanation(str(toy_dir), data, method="occlusion", max_explained=30)
    assert result.top_words["positive"][0]["word"] == "good"
    assert result.top_words["negative"][0]["word"] == "bad"
    assert result.surrogate_words["positive"][0]["word"] == "good"
    assert result.surrogate_words["negative"][0]["word"] == "bad"
    assert result.surrogate_fidelity >= 0.9
    assert json.loads(json.dumps(result.to_dict()))["surrogate"]["fidelity"] == round(result.surrogate_fidelity, 4)


def test_global_view_needs_a_classifier(tiny_gpt2_dir):
    from tamellm.errors import InputError

    with pytest.raises(InputError, match="needs a classifier"):
        tamellm.api.global_explanation(str(tiny_gpt2_dir), ["a b c"] * 10)


def test_cli_compare_and_global(toy_dir, tmp_path):
    from typer.testing import CliRunner

    from tamellm.cli.main import app

    data = tmp_path / "reviews.csv"
    texts, labels = toy_sentences(40, seed=3)
    data.write_text("text,label\n" + "".join(f"{t},{y}\n" for t, y in zip(texts, labels, strict=True)))
    runner = CliRunner()
    out = runner.invoke(app, ["explain", "--compare", str(toy_dir), "--data", str(data), "--limit", "3", "--json"])
    assert out.exit_code == 0, out.output
    rows = json.loads(out.stdout)
    assert {r["method"] for r in rows} >= {"integrated_gradients", "occlusion", "lime", "kernel_shap", "random"}
    out = runner.invoke(app, ["explain", "--global", str(toy_dir), "--data", str(data), "--limit", "10",
                              "--method", "occlusion", "--json"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.stdout)["top_words"]["positive"][0]["word"] == "good"
