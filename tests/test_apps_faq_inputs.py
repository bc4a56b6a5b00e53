"""The FAQ assistant beyond English text: a Chinese FAQ gets a multilingual encoder, and questions
come from images (OCR through the media layer), in process and from `tamellm faq ask --input`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from test_media import render_text

from tamellm.apps.faq import FaqAssistant, build_faq
from tamellm.apps.faq.build import default_encoder
from tamellm.errors import InputError

FAQ = [
    ("How do I reset my online banking password?",
     "Click 'Forgot password' on the login page and follow the link we e-mail you."),
    ("What are the opening hours of your branches?", "Our branches are open Monday to Friday, 9am to 5pm."),
    ("How can I block a lost or stolen debit card?",
     "Block it at once in the mobile app under Cards > Block, or call 0800 123 456 at any hour."),
    ("What is the daily ATM withdrawal limit?", "You can withdraw up to 1,000 euros a day at ATMs."),
    ("How long does an international transfer take?", "International transfers arrive within 1 to 3 working days."),
]
CHINESE_FAQ = [
    ("如何重置网上银行密码？", "在登录页面点击“忘记密码”，然后按照邮件中的链接操作。"),
    ("银行网点的营业时间是什么？", "我们的网点周一至周五上午九点到下午五点营业。"),
    ("银行卡丢了怎么挂失？", "请立即在手机银行的“卡片”页面挂失，或拨打客服电话。"),
    ("每天在自动取款机最多能取多少钱？", "每天最多可以在自动取款机取一万元。"),
    ("国际汇款需要多长时间到账？", "国际汇款一般在一到三个工作日内到账。"),
]


@pytest.fixture(scope="module")
def english_dir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("faq")
    pd.DataFrame(FAQ, columns=["question", "answer"]).to_csv(folder / "faq.csv", index=False)
    result = build_faq(folder / "faq.csv", folder / "index")
    assert result.encoder["name"] == "minilm-l6" and "'en'" in result.encoder["why"]
    assert "compared" not in result.encoder  # too small a FAQ to tell encoders apart on itself
    return folder / "index"


@pytest.fixture(scope="module")
def question_png(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("media") / "question.png"
    return render_text(path, ["My debit card was stolen, how do I block it?"], size=(900, 90))


def test_the_default_encoder_follows_the_faq_language(tmp_path):
    assert default_encoder(["How do I reset my password?", "Click 'Forgot password'."])[0] == "minilm-l6"
    pd.DataFrame(CHINESE_FAQ, columns=["question", "answer"]).to_csv(tmp_path / "faq.csv", index=False)
    result = build_faq(tmp_path / "faq.csv", tmp_path / "zh")
    assert result.encoder["name"] == "multilingual-e5-small"
    assert "'zh'" in result.encoder["why"] and "multilingual-e5-small" in result.encoder["why"]
    assistant = FaqAssistant.load(tmp_path / "zh")
    assert assistant.index.encoder == "multilingual-e5-small"  # the folder keeps the encoder it was built with
    reply = assistant.ask("我的银行卡丢失了，应该怎么办？")  # worded unlike the entry: 丢失 / 怎么办
    assert reply.answers[0].id == "2", reply.to_dict()
    assert reply.reply.endswith("[2]")
    assert assistant.ask("国际汇款要几天？").answers[0].id == "4"


def test_a_large_enough_faq_keeps_the_encoder_that_ranks_its_own_questions_best(tmp_path, monkeypatch):
    import tamellm.apps.faq.build as build

    monkeypatch.setattr(build, "MIN_ENTRIES_TO_COMPARE", len(FAQ))  # the real rule, on a FAQ small enough for a test
    pd.DataFrame(FAQ, columns=["question", "answer"]).to_csv(tmp_path / "faq.csv", index=False)
    result = build_faq(tmp_path / "faq.csv", tmp_path / "index")
    compared = result.encoder["compared"]
    assert set(compared) == {"minilm-l6", "multilingual-e5-small"}
    margin = 1 / result.fusion["simulated_queries"]
    better = compared["multilingual-e5-small"] > compared["minilm-l6"] + margin
    assert result.encoder["name"] == ("multilingual-e5-small" if better else "minilm-l6")
    assert FaqAssistant.load(tmp_path / "index").index.encoder == result.encoder["name"]
    assert FaqAssistant.load(tmp_path / "index").ask("How long do transfers abroad take?").answers[0].id == "4"


def test_a_question_in_an_image_is_read_and_answered(english_dir, question_png):
    assistant = FaqAssistant.load(english_dir)
    reply = assistant.ask(file=question_png)
    out = reply.to_dict()
    assert out["answers"][0]["id"] == "2", out
    assert not out["handoff"]
    assert "stolen" in out["input"]["text"].lower() and out["input"]["kind"] == "image"
    assert out["input"]["file"] == str(question_png) and out["input"]["segments"]
    assert assistant.ask(question_png).to_dict()["input"]["text"] == out["input"]["text"]  # a Path is a file
    assert "input" not in assistant.ask("When are you open?").to_dict()  # typed questions keep the plain JSON
    with pytest.raises(InputError, match="either as text or as a file"):
        assistant.ask("When are you open?", file=question_png)
    with pytest.raises(InputError, match="not an image, PDF or audio file.*\\.png"):
        assistant.ask(file=english_dir / "faq.json")


def test_faq_ask_input_from_the_command_line(english_dir, question_png):
    run = subprocess.run([sys.executable, "-m", "tamellm.cli.main", "faq", "ask", str(english_dir),
                          "--input", str(question_png), "--json"], capture_output=True, text=True, timeout=240)
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    assert out["answers"][0]["id"] == "2" and out["reply"].endswith("[2]")
    assert "stolen" in out["input"]["text"].lower()
    missing = subprocess.run([sys.executable, "-m", "tamellm.cli.main", "faq", "ask", str(english_dir)],
                             capture_output=True, text=True, timeout=240)
    assert missing.returncode != 0 and "No question given" in missing.stderr


def test_one_question_is_embedded_on_one_thread_and_the_setting_is_restored(english_dir):
    import torch

    from tamellm.apps.faq.index import _one_thread

    before = torch.get_num_threads()
    seen = []
    with _one_thread(1):
        seen.append(torch.get_num_threads())
    with _one_thread(64):  # a batch keeps every thread
        seen.append(torch.get_num_threads())
    assert seen == [1, before] and torch.get_num_threads() == before
    FaqAssistant.load(english_dir).ask("What is the ATM limit?")
    assert torch.get_num_threads() == before
