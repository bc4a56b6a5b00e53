"""The FAQ assistant's trained parts: ``--tune`` (the encoder adapted to the FAQ), ``--rerank`` (a cross-encoder
trained from the MiniLM body) and the fusion weight calibrated on the FAQ itself.

Real models (the packaged minilm-l6), the real CLI in new processes, a tiny FAQ so that training takes seconds.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tamellm.apps.faq import FaqAssistant, build_faq
from tamellm.apps.faq.entries import FaqEntry
from tamellm.apps.faq.fusion import fuse, scaled_lexical, score_fusion
from tamellm.apps.faq.index import embed
from tamellm.errors import InputError

FAQ = [
    ("How do I reset my online banking password?",
     "Click 'Forgot password' on the login page and follow the link we e-mail you."),
    ("What are the opening hours of your branches?", "Our branches are open Monday to Friday, 9am to 5pm."),
    ("How can I block a lost or stolen debit card?",
     "Block it at once in the mobile app under Cards > Block, or call 0800 123 456 at any hour."),
    ("How do I order a new cheque book?", "Order one in online banking under Services > Cheque book."),
    ("What is the daily ATM withdrawal limit?", "You can withdraw up to 1,000 euros a day at ATMs."),
    ("How do I update my home address?", "Change your address in the app under Profile > Address."),
    ("Can I open a savings account online?", "Yes, open a savings account online in about ten minutes."),
    ("How long does an international transfer take?", "International transfers arrive within 1 to 3 working days."),
    ("How do I block my credit card?", "Credit cards are blocked in the app under Cards > Credit > Block."),
]
PASSWORD = "I forgot my password for internet banking, what now?"


def _cli(*args: str, timeout: float = 900) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tamellm.cli.main", *args], capture_output=True, text=True,
                          timeout=timeout)


@pytest.fixture(scope="module")
def faq_csv(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("faq") / "faq.csv"
    pd.DataFrame(FAQ, columns=["question", "answer"]).to_csv(path, index=False)
    return path


def test_tune_and_rerank_build_in_a_new_process_and_travel_with_the_folder(tmp_path, faq_csv, tiny_sentence_dir):
    # A tiny sentence encoder keeps the training seconds long; what is checked here is the plumbing:
    # models trained, checked, stored inside the folder, found after a move, used or not as asked.
    out = tmp_path / "faq"
    built = _cli("faq", "build", str(faq_csv), "--output", str(out), "--model", str(tiny_sentence_dir), "--tune",
                 "--rerank", "--json")
    assert built.returncode == 0, built.stderr
    models = json.loads(built.stdout)["models"]
    assert models["tune"]["steps"] >= 1 and models["rerank"]["steps"] >= 20
    check = models["rerank"]["validation"]
    assert check["queries"] == len(FAQ)
    assert models["rerank"]["enabled"] == (check["reranked_mrr"] > check["retrieved_mrr"])
    for info in models.values():
        assert (out / info["folder"] / "model.safetensors").is_file()
    assert not list(out.glob(".staging-*"))
    moved = tmp_path / "elsewhere" / "bank"
    shutil.move(out, moved)  # the trained models travel inside the folder
    asked = _cli("faq", "ask", str(moved), PASSWORD, "--json", "--rerank")
    assert asked.returncode == 0, asked.stderr
    answers = json.loads(asked.stdout)["answers"]
    reranker = FaqAssistant.load(moved, rerank=True).reranker()
    by_id = {str(i): FaqEntry(str(i), q, a) for i, (q, a) in enumerate(FAQ)}
    logits = reranker.scores(PASSWORD, [by_id[a["id"]] for a in answers])
    scores = [a["score"] for a in answers]
    assert len(answers) >= 5 and scores == sorted(scores, reverse=True)
    assert scores == pytest.approx((1 / (1 + np.exp(-logits))).tolist(), abs=1e-5)  # P(relevant), best first
    assistant = FaqAssistant.load(moved, rerank=False)
    assert Path(assistant.index.encoder).parent == moved.resolve()  # the tuned encoder, found where it is now
    assert assistant.reranker() is None
    default = FaqAssistant.load(moved)  # reranks only when the reranker passed its check at build time
    assert (default.reranker() is not None) == models["rerank"]["enabled"]
    build_faq(faq_csv, moved, encoder=tiny_sentence_dir)  # rebuilt without them: the old models go
    assert not list(moved.glob("encoder-*")) and not list(moved.glob("reranker-*"))
    with pytest.raises(InputError, match="no reranker"):
        FaqAssistant.load(moved, rerank=True).ask(PASSWORD)


def test_tuning_pulls_each_question_towards_its_answer(tmp_path):
    from tamellm.apps.faq.tune import tune_encoder

    entries = [FaqEntry(str(i), q, a) for i, (q, a) in enumerate(FAQ)]

    def margin(encoder: str) -> float:
        questions = embed([e.question for e in entries], encoder)
        answers = embed([e.answer for e in entries], encoder)
        similarity = questions @ answers.T
        return float(np.mean(np.diag(similarity)) - np.mean(similarity[~np.eye(len(entries), dtype=bool)]))

    info = tune_encoder(entries, tmp_path / "enc", epochs=4)
    assert info["pairs"] == len(FAQ) and info["steps"] == 4
    assert margin(str(tmp_path / "enc")) > margin("minilm-l6") + 0.01
    with pytest.raises(InputError, match="Unknown tuning loss 'triplet'"):
        tune_encoder(entries, tmp_path / "x", loss="triplet")


def test_score_fusion_scales_bm25_by_the_best_match():
    dense = np.array([0.9, 0.5, 0.1])
    lexical = np.array([0.0, 8.0, 4.0])
    assert scaled_lexical(lexical).tolist() == [0.0, 1.0, 0.5]
    assert scaled_lexical(np.zeros(3)).tolist() == [0.0, 0.0, 0.0]  # no word matched: dense alone decides
    assert score_fusion(dense, lexical, 1.0).argmax() == 0 and score_fusion(dense, lexical, 0.0).argmax() == 1
    assert score_fusion(dense, lexical, 0.5).tolist() == pytest.approx([0.45, 0.75, 0.3])
    assert fuse(dense, lexical, {"method": "score", "dense_weight": 0.5}).argmax() == 1
    with pytest.raises(InputError, match="Unknown fusion method 'max'"):
        fuse(dense, lexical, {"method": "max"})


def test_fusion_weight_is_calibrated_on_the_faq_and_used_by_search(tmp_path, faq_csv):
    result = build_faq(faq_csv, tmp_path / "faq")
    fusion = result.fusion
    assert fusion["method"] == "score" and 0.0 <= fusion["dense_weight"] <= 1.0
    assert fusion["simulated_queries"] >= len(FAQ) and set(fusion["mrr_by_dense_weight"]) >= {"0.0", "1.0"}
    assistant = FaqAssistant.load(tmp_path / "faq")
    assert assistant.index.meta["fusion"] == fusion
    index = assistant.index
    expected = score_fusion(index.question_vectors @ embed([PASSWORD], index.encoder)[0],
                            index.lexical.scores(PASSWORD), fusion["dense_weight"])
    hit = index.search(PASSWORD, k=1)[0]
    assert hit.position == int(expected.argmax()) and hit.score == pytest.approx(float(expected.max()), abs=1e-5)
    assert assistant.ask(PASSWORD).answers[0].id == "0"


def test_intent_label_from_a_classifier_folder(tmp_path, faq_csv, tiny_classifier_dir, tiny_bert_dir):
    import tamellm

    build_faq(faq_csv, tmp_path / "faq", encoder=tiny_bert_dir)
    question = FAQ[3][0]
    routed = FaqAssistant.load(tmp_path / "faq", intent_model=str(tiny_classifier_dir)).ask(question).to_dict()
    expected = tamellm.classify(question, model=str(tiny_classifier_dir))
    assert routed["intent"] == {"label": expected.label, "score": pytest.approx(expected.score, abs=1e-4)}
    plain = FaqAssistant.load(tmp_path / "faq").ask(question).to_dict()
    assert set(plain) == {"answers", "handoff", "reply"}  # the interface is unchanged without an intent model
    assert plain["answers"] == routed["answers"]
    with pytest.raises(InputError, match="not a classifier"):
        FaqAssistant.load(tmp_path / "faq", intent_model=str(tiny_bert_dir)).ask(question)
