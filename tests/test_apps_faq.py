"""The FAQ assistant as users run it: `tamellm faq build/ask/eval` in new processes, the Python API, the server."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tamellm.apps.faq import FaqAssistant, build_faq, read_faq
from tamellm.apps.faq.calibration import best_threshold
from tamellm.apps.faq.fusion import ranks, reciprocal_rank_fusion
from tamellm.errors import DataError, InputError

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
EXPECTED_KEYS = {"answers", "handoff", "reply"}
ANSWER_KEYS = {"id", "question", "answer", "score"}


def _cli(*args: str, timeout: float = 240) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tamellm.cli.main", *args], capture_output=True, text=True,
                          timeout=timeout)


@pytest.fixture(scope="module")
def faq_csv(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("faq") / "faq.csv"
    pd.DataFrame(FAQ, columns=["question", "answer"]).to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def faq_dir(tmp_path_factory, faq_csv) -> Path:
    """The FAQ built in this process with the real minilm-l6 (retrieval quality matters here)."""
    out = tmp_path_factory.mktemp("index") / "bank"
    build_faq(faq_csv, out)
    return out


# What users run in a new process


def test_build_and_ask_in_new_processes(tmp_path, faq_csv):
    out = tmp_path / "faq"
    built = _cli("faq", "build", str(faq_csv), "--output", str(out))
    assert built.returncode == 0, built.stderr
    asked = _cli("faq", "ask", str(out), "I forgot my password for internet banking, what now?", "--json")
    assert asked.returncode == 0, asked.stderr
    data = json.loads(asked.stdout)
    assert set(data) == EXPECTED_KEYS
    assert len(data["answers"]) >= 5 and all(set(a) == ANSWER_KEYS for a in data["answers"])
    assert all(isinstance(a["id"], str) and isinstance(a["score"], float) for a in data["answers"])
    scores = [a["score"] for a in data["answers"]]
    assert scores == sorted(scores, reverse=True)
    assert data["answers"][0]["id"] == "0"  # no id column: the 0-based row number
    assert data["handoff"] is False and "[0]" in data["reply"] and FAQ[0][1] in data["reply"]


def test_a_50000_character_question_is_a_one_line_error_with_exit_2(faq_dir):
    asked = _cli("faq", "ask", str(faq_dir), "money " * 8334, "--json")
    assert asked.returncode == 2
    lines = asked.stderr.strip().splitlines()
    assert lines[0].startswith("error: ") and "50,00" in lines[0] and "2,000" in lines[0]
    assert asked.stdout == ""


# The Python API


def test_paraphrase_finds_its_entry_and_unrelated_question_hands_off(faq_dir):
    assistant = FaqAssistant.load(faq_dir)
    reply = assistant.ask("when are your offices open?")
    assert reply.to_dict()["answers"][0]["id"] == "1" and reply.handoff is False
    assert reply.to_dict()["reply"].endswith("[1]")
    unrelated = assistant.ask("What is a good recipe for chocolate cake?")
    assert unrelated.handoff is True
    assert len(unrelated.answers) >= 5 and "colleague" in unrelated.reply


def test_follow_up_uses_the_history(faq_dir):
    assistant = FaqAssistant.load(faq_dir)
    first = assistant.ask("How do I block my lost debit card?")
    assert first.answers[0].id == "2"
    alone = assistant.ask("and what about my credit card?")
    follow = assistant.ask("and what about my credit card?", history=["How do I block my lost debit card?"])
    assert follow.follow_up and follow.answers[0].id == "8"
    assert follow.handoff is False and (alone.handoff or alone.answers[0].id != "8" or alone.confidence
                                        <= follow.confidence)
    messages = [{"role": "user", "content": "How do I block my lost debit card?"},
                {"role": "assistant", "content": first.reply}]
    assert assistant.ask("and my credit card?", history=messages).answers[0].id == "8"


def test_bad_questions_are_clear_input_errors(faq_dir):
    assistant = FaqAssistant.load(faq_dir)
    with pytest.raises(InputError, match="50,000 characters"):
        assistant.ask("x" * 50_000)
    with pytest.raises(InputError, match="Cyrillic script.*Latin"):
        assistant.ask("Как сбросить пароль?")
    with pytest.raises(InputError, match="Han script"):
        assistant.ask("我怎么重置密码")
    with pytest.raises(InputError, match="empty"):
        assistant.ask("   ")


def test_add_and_remove_are_saved_atomically(tmp_path, faq_dir):
    import shutil

    folder = tmp_path / "copy"
    shutil.copytree(faq_dir, folder)
    assistant = FaqAssistant.load(folder)
    added = assistant.add([{"question": "Do you offer student loans?",
                            "answer": "Yes, students get loans up to 10,000 euros at 2 %."}])
    assert added == [str(len(FAQ))]
    reloaded = FaqAssistant.load(folder)
    assert reloaded.ask("loans for students?").answers[0].id == added[0]
    assistant.remove(["1"])
    assert "1" not in FaqAssistant.load(folder).index.ids()
    assert sorted(p.name for p in folder.iterdir()) == ["faq.json", "g000003"]  # old generations gone, no staging
    with pytest.raises(InputError, match="No FAQ entry with id 'nope'"):
        assistant.remove(["nope"])
    with pytest.raises(InputError, match="already in the FAQ"):
        assistant.add([{"id": "2", "question": "q?", "answer": "a"}])
    assistant.remove(assistant.index.ids())
    with pytest.raises(InputError, match="has no entries"):
        FaqAssistant.load(folder).ask("How do I reset my password?")


def test_generate_rephrases_from_the_retrieved_answers_and_cites_them(faq_dir, tiny_gpt2_dir):
    assistant = FaqAssistant.load(faq_dir, chat_model=str(tiny_gpt2_dir), generate_sources=1)  # 256-token model
    reply = assistant.ask("when are your offices open?", generate=True, max_new_tokens=6)
    assert reply.handoff is False and reply.cited == [reply.cited[0]]
    assert reply.cited[0] == reply.answers[0].id and reply.reply.endswith(f"[{reply.cited[0]}]")
    result, pieces = assistant.stream("when are your offices open?", max_new_tokens=6)
    assert result.answers[0].id == "1" and isinstance("".join(pieces), str)
    off_topic, pieces = assistant.stream("What is a good recipe for chocolate cake?")
    assert off_topic.handoff and "colleague" in "".join(pieces)


# Reading FAQ files


def test_ids_duplicates_and_empty_answers_are_reported(tmp_path, capsys, tiny_bert_dir):
    from tamellm.cli.main import run

    path = tmp_path / "faq.csv"
    pd.DataFrame({"ID": ["a", "b", "c", "d"], "Question": ["Q one?", "Q two?", "Q one?", "Q three?"],
                  "Answer": ["A one", "", "A one", "A three"]}).to_csv(path, index=False)
    entries, report = read_faq(path)
    assert [e.id for e in entries] == ["a", "d"]
    assert report.empty_answers == [3] and report.duplicates == [(4, 2)]
    assert any("empty answer" in w for w in report.warnings()) and any("duplicate" in w for w in report.warnings())
    run(["faq", "build", str(path), "--output", str(tmp_path / "out"), "--model", str(tiny_bert_dir)])
    err = capsys.readouterr().err
    assert "duplicate" in err and "empty answer" in err


def test_a_faq_without_an_answer_column_is_a_data_error(tmp_path, capsys):
    from tamellm.cli.main import run

    path = tmp_path / "faq.csv"
    pd.DataFrame({"question": ["q?"], "category": ["x"]}).to_csv(path, index=False)
    with pytest.raises(DataError, match="no answer column among"):
        read_faq(path)
    with pytest.raises(SystemExit) as exit_info:
        run(["faq", "build", str(path), "--output", str(tmp_path / "out")])
    assert exit_info.value.code == 2
    assert capsys.readouterr().err.startswith("error: ") and not (tmp_path / "out").exists()


def test_building_into_a_foreign_folder_is_refused(tmp_path, faq_csv):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(InputError, match="not a FAQ index"):
        build_faq(faq_csv, tmp_path)


# Evaluation


def test_eval_command_prints_the_metrics(tmp_path, faq_dir, capsys):
    data = tmp_path / "questions.csv"
    pd.DataFrame({"question": ["when are you open?", "I lost my debit card, how do I block it?",
                               "how much cash can I take from the ATM per day?", "Who won the football cup?"],
                  "answer": [FAQ[1][1], "2", "4", ""]}).to_csv(data, index=False)
    from tamellm.cli.main import run

    run(["faq", "eval", str(faq_dir), "--data", str(data), "--json"])
    metrics = json.loads(capsys.readouterr().out)
    assert metrics["questions"] == 4 and metrics["answerable"] == 3
    assert metrics["recall@1"] == 1.0 and 0 <= metrics["handoff_accuracy"] <= 1


def test_eval_metrics(tmp_path, faq_dir):
    from tamellm.apps.faq import evaluate

    data = tmp_path / "questions.csv"
    pd.DataFrame({"question": ["when are you open?", "I lost my debit card, how do I block it?",
                               "Who won the football cup?"],
                  "id": ["1", "2", ""]}).to_csv(data, index=False)
    metrics = evaluate(FaqAssistant.load(faq_dir), data)
    assert metrics["answerable"] == 2 and metrics["recall@1"] == 1.0 and metrics["mrr"] == 1.0
    assert metrics["handoff_accuracy"] == 1.0 and metrics["handoff_rate"] == pytest.approx(1 / 3, abs=1e-3)
    bad = tmp_path / "bad.csv"
    pd.DataFrame({"question": ["q?"], "id": ["no-such-id"]}).to_csv(bad, index=False)
    with pytest.raises(DataError, match="names no FAQ id or answer"):
        evaluate(FaqAssistant.load(faq_dir), bad)


# The server


def test_server_asks_adds_and_removes_without_restart(tmp_path, faq_dir):
    import shutil

    from fastapi.testclient import TestClient

    import tamellm

    folder = tmp_path / "bank"
    shutil.copytree(faq_dir, folder)
    with TestClient(tamellm.create_app([], faq=[str(folder)])) as client:
        answer = client.post("/v1/faq/bank/ask", json={"question": "when are your branches open?"})
        assert answer.status_code == 200, answer.text
        assert set(answer.json()) == EXPECTED_KEYS and answer.json()["answers"][0]["id"] == "1"
        too_long = client.post("/v1/faq/bank/ask", json={"question": "x" * 50_000})
        assert 400 <= too_long.status_code < 500 and "error" in too_long.json()
        assert client.post("/v1/faq/nope/ask", json={"question": "hi"}).status_code == 404
        events = client.post("/v1/faq/bank/ask", json={"question": "What is a good recipe for chocolate cake?",
                                                       "generate": True, "stream": True})
        assert events.headers["content-type"].startswith("text/event-stream")
        chunks = [json.loads(line[6:]) for line in events.text.splitlines()
                  if line.startswith("data: ") and line != "data: [DONE]"]
        assert chunks[0]["handoff"] is True and "colleague" in "".join(c.get("delta", "") for c in chunks[1:])
        assert events.text.rstrip().endswith("data: [DONE]")
        added = client.post("/v1/faq/bank/entries", json={"entries": [
            {"id": "pets", "question": "Can I bring my dog into a branch?", "answer": "Dogs are welcome."}]})
        assert added.status_code == 200 and added.json()["added"] == ["pets"]
        pets = client.post("/v1/faq/bank/ask", json={"question": "are dogs allowed in your branches?"}).json()
        assert pets["answers"][0]["id"] == "pets"
        assert client.delete("/v1/faq/bank/entries/pets").json()["removed"] == ["pets"]
        assert client.delete("/v1/faq/bank/entries/pets").status_code == 400
    assert "pets" not in FaqAssistant.load(folder).index.ids()


# The pieces


def test_reciprocal_rank_fusion_favours_agreement():
    dense = np.array([0.9, 0.8, 0.1])
    lexical = np.array([0.0, 5.0, 4.0])
    fused = reciprocal_rank_fusion([ranks(dense), ranks(lexical, floor=0.0)])
    assert fused.argmax() == 1 and fused[0] > 0 and 0 < fused.max() <= 1
    assert reciprocal_rank_fusion([ranks(dense), ranks(dense)])[0] == pytest.approx(1.0)


def test_best_threshold_separates_scores():
    threshold, accuracy = best_threshold(np.array([0.8, 0.9, 0.85]), np.array([0.2, 0.4, 0.5]))
    assert 0.5 < threshold < 0.8 and accuracy == 1.0


def test_tiny_encoder_folder_builds_and_answers(tmp_path, faq_csv, tiny_bert_dir):
    build_faq(faq_csv, tmp_path / "tiny", encoder=tiny_bert_dir)
    reply = FaqAssistant.load(tmp_path / "tiny").ask(FAQ[3][0])
    assert len(reply.answers) == 5 and reply.answers[0].id == "3"  # exact question: BM25 and dense agree
