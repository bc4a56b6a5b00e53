"""Robustness: the perturbations, the test runner and the attack on small real classifiers, and the CLI."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys

import pytest

import tamellm
from tamellm.errors import InputError
from tamellm.robust import PERTURBATIONS, PerturbContext, run_robustness, write_report
from tamellm.robust.lexicon import load_wordnet, wordnet_dir

pytestmark = pytest.mark.usefixtures("quiet_one_thread")
GOOD = ["great", "good", "lovely", "excellent", "nice", "happy"]
BAD = ["bad", "awful", "terrible", "poor", "sad", "horrible"]
needs_wordnet = pytest.mark.skipif(wordnet_dir() is None, reason="WordNet (apt-get install wordnet-base) absent")


def _apply(name: str, text: str, context: PerturbContext | None = None, seed: int = 0) -> str | None:
    return PERTURBATIONS[name].apply(text, seed, 0, context or PerturbContext())


def test_every_test_is_seeded_and_registered_with_an_expectation():
    context = PerturbContext(entities={"John met Mary in Paris at 10 .": [(0, 4, "PERSON"), (9, 13, "PERSON"),
                                                                           (17, 22, "GPE")]})
    text = "John met Mary in Paris at 10 ."
    for name, test in PERTURBATIONS.items():
        assert test.expect in ("same", "away", "keep") and test.kind in ("invariance", "directional")
        first = [test.apply(text, seed, 0, context) for seed in range(5)]
        assert first == [test.apply(text, seed, 0, context) for seed in range(5)], name  # same seed, same text
    randomised = ("typo-keyboard", "typo-swap", "typo-drop", "typo-double", "swap-names", "add-irrelevant")
    for name in randomised:  # a different seed gives a different text somewhere
        assert len({_apply(name, text + " the whole evening was wonderful", seed=s) for s in range(8)}) > 1, name


def test_typos_change_one_word_by_one_letter():
    text = "the performances were wonderful and moving"
    for name, delta in (("typo-drop", -1), ("typo-double", 1), ("typo-swap", 0), ("typo-keyboard", 0)):
        out = _apply(name, text)
        assert out is not None and out != text
        changed = [(a, b) for a, b in zip(text.split(), out.split(), strict=True) if a != b]
        assert len(changed) == 1 and len(changed[0][1]) - len(changed[0][0]) == delta, (name, out)
        assert changed[0][0][0] == changed[0][1][0]  # the first letter stays: the word remains readable


def test_contractions_expand_sst_style_and_plain_text_and_contract_otherwise():
    assert _apply("contractions", "it 's not bad , but it is n't good") == "it is not bad , but it is not good"
    assert _apply("contractions", "I can't say it's Great") == "I can not say it is Great"
    assert _apply("contractions", "It is what they are not") == "It's what they're not"
    assert _apply("contractions", "a plain sentence") is None


def test_negation_adds_or_removes_and_the_intensifier_needs_an_adjective():
    assert _apply("negation", "the plot is clever") == "the plot is not clever"
    assert _apply("negation", "the plot is n't clever") == "the plot is clever"
    assert _apply("negation", "I didn't like it") == "I did like it"
    assert _apply("negation", "clever plot") is None  # no auxiliary verb: the test does not apply
    context = PerturbContext(parts_of_speech=lambda w: {"clever": {"adj"}}.get(w, {"noun"}))
    assert _apply("intensifier", "a clever plot", context) in {f"a {w} clever plot" for w in ("really", "very",
                                                                                               "truly")}
    assert _apply("intensifier", "a plot", context) is None


def test_entity_and_number_swaps_use_the_ner_spans_and_keep_the_rest():
    text = "Obama visited Springfield with 3 friends"
    context = PerturbContext(entities={text: [(0, 5, "PERSON"), (14, 25, "GPE")]})
    names, places, numbers = (_apply(n, text, context) for n in ("swap-names", "swap-places", "swap-numbers"))
    assert not names.startswith("Obama") and names.endswith("visited Springfield with 3 friends")
    assert "Springfield" not in places and places.startswith("Obama visited ")
    assert numbers.startswith("Obama visited Springfield with ") and " 3 " not in numbers
    assert _apply("swap-names", "no entity in sight", PerturbContext()) is None
    assert _apply("swap-names", "i saw john today") != "i saw john today"  # lower-cased text: the name list


def test_punctuation_whitespace_case_and_distractor():
    assert _apply("punctuation", "Great film , really !") == "Great film really"
    assert _apply("punctuation", "Great film") == "Great film."
    assert _apply("whitespace", "a b c").split() == ["a", "b", "c"]
    assert _apply("uppercase", "a b") == "A B" and _apply("lowercase", "a b") is None
    out = _apply("add-irrelevant", "Great film")
    assert out.startswith("Great film. ") and len(out) > len("Great film. ")


@needs_wordnet
def test_wordnet_synonyms_and_the_synonym_test_keeps_opinion_words():
    wordnet = load_wordnet()
    assert "film" in wordnet.synonyms("movie") and wordnet.parts_of_speech("charming") == {"adj"}
    context = PerturbContext(synonyms=wordnet.synonyms, parts_of_speech=wordnet.parts_of_speech)
    out = _apply("synonyms", "a wonderful movie", context)
    assert out.startswith("a wonderful ") and out != "a wonderful movie"
    long = "a wonderful movie that is at least as good as the other ones we all saw and liked so much"
    assert _apply("synonyms", long, context) != long  # more words than synonym candidates


def _write(path, n: int, seed: int = 0):
    rng = random.Random(seed)
    rows = ["review,sentiment"]
    for i in range(n):
        positive = i % 2 == 0
        rows.append(f"the film was {rng.choice(GOOD if positive else BAD)} and the cast is fine,"
                    f"{'positive' if positive else 'negative'}")
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def sentiment_model(tmp_path_factory, tiny_bert_dir):
    """A tiny BERT fine-tuned until the sentiment word decides the label (a real classifier to attack)."""
    folder = tmp_path_factory.mktemp("robust")
    # The session's tiny tokenizer gets different token ids in each process (the WordPiece trainer breaks ties
    # in no fixed order), so the same seed starts from a different model: 4 epochs stayed at chance accuracy in
    # 2 of 6 processes, 8 epochs reached 1.0 in 6 of 6. Trackers off, as in every test (quiet_one_thread).
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TAMELLM_TRACKING", "0")
        run = tamellm.train(data=str(_write(folder / "train.csv", 160)), model=str(tiny_bert_dir), strategy="full",
                            epochs=8, batch_size=16, learning_rate=5e-3, early_stopping_patience=0, seed=3,
                            output=str(folder / "runs"))
    assert run.metrics["test"]["accuracy"] >= 0.9
    return run.model_dir, _write(folder / "test.csv", 40, seed=1)


def test_runner_scores_every_test_and_the_attack_flips_real_predictions(sentiment_model, tmp_path):
    model_dir, data = sentiment_model
    result = run_robustness(model_dir, data, attack_limit=10, seed=0)
    out = result.to_dict()
    assert out["clean_accuracy"] >= 0.9 and out["rows"] == 40
    by_name = {t["name"]: t for t in out["tests"]}
    assert set(by_name) == set(PERTURBATIONS.names())
    for t in out["tests"]:
        assert 0 <= t["failure_rate"] <= 1 and 0 <= t["accuracy"] <= 1 and t["examples"] <= 40
        assert len(t["worst"]) <= min(3, t["failures"])
    # "the film was X and the cast is fine": every text has an auxiliary and letters to edit
    assert by_name["negation"]["examples"] == 40 and by_name["typo-drop"]["examples"] == 40
    assert by_name["swap-names"]["examples"] == 0 and by_name["swap-names"]["failure_rate"] == 0.0
    # the uppercase test reaches the same lower-casing tokenizer: no prediction may change
    assert by_name["uppercase"]["failure_rate"] == 0.0
    attack = out["attack"]
    assert attack["attacked"] == 10 and 0 <= attack["success_rate"] <= 1
    model = tamellm.load(model_dir)
    for example in attack["examples"]:  # every reported success really flips the model's prediction
        assert model.predict(example["adversarial"]).label != model.predict(example["text"]).label
        assert 1 <= example["changed"] <= max(1, round(0.3 * example["words"]))
    again = run_robustness(model_dir, data, attack=False, seed=0).to_dict()
    assert [t["failure_rate"] for t in again["tests"]] == [t["failure_rate"] for t in out["tests"]]
    html_path, json_path = write_report(result, tmp_path / "report")
    assert json.loads(json_path.read_text())["clean_accuracy"] == out["clean_accuracy"]
    assert "<h1>Robustness of" in html_path.read_text() and "negation" in html_path.read_text()


def test_the_attack_succeeds_when_synonyms_are_unknown_words(sentiment_model):
    """The tiny tokenizer knows no synonym of 'great': replacing the one word that decides flips the label."""
    from tamellm.robust import greedy_attack

    model_dir, _ = sentiment_model
    model = tamellm.load(model_dir)
    texts = ["the film was great and the cast is fine", "the film was awful and the cast is fine"]
    labels = [model.labels.index("positive"), model.labels.index("negative")]
    result = greedy_attack(model, texts, labels, labels, synonyms=lambda w: ["zzzq", "qqqz"] if w in GOOD + BAD
                           else [], max_fraction=0.5)
    assert result.attacked == 2
    for example in result.examples:
        assert [s[0] for s in example["swaps"]] in (["great"], ["awful"])


def test_bad_input_is_named(tiny_bert_dir, sentiment_model, tmp_path):
    model_dir, data = sentiment_model
    with pytest.raises(InputError, match="Unknown robustness test 'typo'"):
        run_robustness(model_dir, data, tests="typo")
    with pytest.raises(InputError, match="fine-tuned classifier"):
        run_robustness(tiny_bert_dir, data)
    unlabelled = tmp_path / "u.csv"
    unlabelled.write_text("text\na film\nanother film\n", encoding="utf-8")
    with pytest.raises(tamellm.TamellmError, match="no label column"):
        run_robustness(model_dir, unlabelled)


def test_cli_prints_the_json_the_checks_read_and_the_run_report_shows_it(sentiment_model, tmp_path):
    """On a run folder the result lands beside the run's results, and ``tamellm report RUN`` shows its table."""
    import html
    import re

    model_dir, data = sentiment_model
    run_dir = model_dir.parent
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    out = subprocess.run([sys.executable, "-m", "tamellm.cli.main", "robustness", str(run_dir), "--data", str(data),
                          "--json", "--attack-limit", "3", "--tests", "typo-drop,negation,lowercase"],
                         capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert isinstance(result["clean_accuracy"], float) and isinstance(result["attack"]["success_rate"], float)
    assert [t["name"] for t in result["tests"]] == ["typo-drop", "negation", "lowercase"]
    assert all({"name", "failure_rate", "accuracy", "examples"} <= set(t) for t in result["tests"])
    assert json.loads((run_dir / "robustness.json").read_text()) == result
    assert (run_dir / "robustness.html").is_file()
    assert callable(tamellm.robustness)
    page_path = tmp_path / "page.html"
    shown = subprocess.run([sys.executable, "-m", "tamellm.cli.main", "report", str(run_dir), "--output",
                            str(page_path), "--json"], capture_output=True, text=True, env=env, timeout=300)
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout) == {"report": str(page_path)}
    page = html.unescape(re.sub(r"\s+", " ", page_path.read_text()))
    section = page.split('<h2 id="robustness">Robustness</h2>')[1].split("<h2")[0]
    for t in result["tests"]:  # each test's row carries its numbers from robustness.json
        rate = f"{t['failure_rate']:.4f}" if t["examples"] else "-"  # a test that changed no text has no rate
        cells = f"<td>{t['name']}</td><td>{t['kind']}</td><td>{t['examples']}</td> <td>{rate}</td>"
        assert cells in section, cells
    assert f"attack success rate <b>{result['attack']['success_rate']:.4f}</b> over 3 texts" in section
    assert 'href="robustness.html"' in section
