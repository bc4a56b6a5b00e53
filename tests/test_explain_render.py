"""Rendering (HTML, terminal, JSON) and the ``tamellm explain`` command on a tiny classifier."""

from __future__ import annotations

import json
import re

import pytest
from typer.testing import CliRunner

import tamellm
from tamellm.cli.main import app
from tamellm.explanations.colors import color, scale
from tamellm.explanations.render_html import explanation_fragment, render_html, save_html
from tamellm.explanations.render_terminal import render_terminal
from tamellm.explanations.results import Explanation, WordScore


def sample() -> Explanation:
    text = "great <b>phone</b>, bad battery"
    words = [WordScore("great", 0.8, 0, 5), WordScore("<b>phone</b>", 0.0, 6, 18), WordScore(",", 0.01, 18, 19),
             WordScore("bad", -0.4, 20, 23), WordScore("battery", -0.1, 24, 31)]
    negative = [WordScore(w.word, -w.score, w.start, w.end) for w in words]
    return Explanation(text, "positive", "occlusion", words, {"positive": words, "negative": negative},
                       {"positive": 0.7, "negative": 0.3}, task="classify", model="tiny")


def test_diverging_scale():
    assert color(0.0, 1.0) == (255, 255, 255)
    r, g, b = color(1.0, 1.0)
    assert b > r  # positive is blue
    r, g, b = color(-1.0, 1.0)
    assert r > b  # negative is red
    assert scale([0.0, -2.0, 1.0]) == 2.0 and scale([]) == 1.0


def test_html_has_one_tab_per_class_and_is_self_contained(tmp_path):
    page = render_html(sample())
    assert page.startswith("<!DOCTYPE html>")
    assert len(re.findall(r'<div class="tx-panel', page)) == 2
    assert ">positive" in page and ">negative" in page
    assert not re.search(r"(src|href)=[\"']?https?:", page)  # nothing fetched: usable offline
    assert "<b>phone</b>" not in page and "&lt;b&gt;phone&lt;/b&gt;" in page  # the text is escaped
    # The strongest positive word is the most saturated blue; the negative word is red.
    assert "background:rgb(33,102,172)" in page and "background:rgb(216,140,149)" in page
    path = save_html(tmp_path / "out" / "why.html", sample())
    assert path.read_text() == page and not list(path.parent.glob(".explain-*"))
    assert sample().to_html(tmp_path / "method.html") == page == (tmp_path / "method.html").read_text()


def test_fragment_for_reports_has_no_page_tags():
    fragment = explanation_fragment([sample(), sample()])
    assert "<html" not in fragment and "<body" not in fragment
    assert fragment.count('class="tx-expl"') == 2
    ids = re.findall(r'id="(tx-[0-9]+-[0-9]+)"', fragment)
    assert len(ids) == len(set(ids)) == 4  # tabs of two explanations never clash


def test_terminal_rendering_colours_words():
    from rich.console import Console

    console = Console(record=True, width=100, color_system="truecolor")
    console.print(render_terminal(sample()))
    text = console.export_text(clear=False)
    assert "toward positive (0.700)" in text and "toward negative (0.300)" in text
    assert "top: great +0.800" in text
    assert "48;2;33;102;172" in console.export_text(styles=True)  # the deepest blue background


def test_cli_explain_json(tiny_classifier_dir):
    out = CliRunner().invoke(app, ["explain", str(tiny_classifier_dir), "The film was boring", "--json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    expected = tamellm.classify("The film was boring", model=str(tiny_classifier_dir)).label
    assert data["label"] == expected and data["method"] == "integrated_gradients"
    assert [w["word"] for w in data["words"]] == ["The", "film", "was", "boring"]
    assert all(isinstance(w["score"], float) for w in data["words"])


def test_cli_explain_html_and_terminal(tiny_classifier_dir, tmp_path):
    target = tmp_path / "why.html"
    out = CliRunner().invoke(app, ["explain", str(tiny_classifier_dir), "The film was boring", "--method",
                                   "occlusion", "--html", str(target)])
    assert out.exit_code == 0, out.output
    assert "toward negative" in out.stdout and "toward positive" in out.stdout
    assert target.read_text().count('<div class="tx-panel') == 2


@pytest.mark.parametrize("args, message", [
    (["--method", "lim"], "Did you mean 'lime'"),
    (["--label", "neutral"], "choose one of: negative, positive"),
])
def test_cli_errors_name_what_is_accepted(tiny_classifier_dir, args, message, capsys):
    from tamellm.cli.main import run

    with pytest.raises(SystemExit) as info:
        run(["explain", str(tiny_classifier_dir), "a film", *args])
    assert info.value.code == 2
    assert message in capsys.readouterr().err


def test_cli_compare_needs_data(tiny_classifier_dir):
    out = CliRunner().invoke(app, ["explain", "--compare", str(tiny_classifier_dir)])
    assert out.exit_code != 0 and "--data" in str(out.exception)
