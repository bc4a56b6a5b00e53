"""NER robustness on a tiny word-lookup tagger built here: what each test changes, what counts as a failure,
the attack, and the CLI's JSON in a new process.

The tagger is a real BertForTokenClassification folder with no transformer layer: each word's
embedding points at its tag, so the model is an exact, case-sensitive gazetteer. It knows the
names and places of the swap pools but no organisation of the swap pool, which fixes the
answers: typos, punctuation, spacing and distractors cannot change what it finds, case
changes make it lose every entity, and swapping an organisation loses it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import tamellm
from tamellm.robust import NER_PERTURBATIONS, PerturbContext
from tamellm.robust.ner import NerExample, attack_ner_one, read_ner_examples, run_ner_robustness
from tamellm.robust.perturbations import NAMES, PLACES

pytestmark = pytest.mark.usefixtures("quiet_one_thread")
TAGS = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC", "B-ORG", "I-ORG"]
SENTENCES = [
    [("John", "B-PER"), ("Smith", "I-PER"), ("visited", "O"), ("London", "B-LOC"), ("yesterday", "O"),
     ("with", "O"), ("colleagues", "O"), ("from", "O"), ("Microsoft", "B-ORG"), (".", "O")],
    [("Mary", "B-PER"), ("travelled", "O"), ("from", "O"), ("Paris", "B-LOC"), ("to", "O"), ("Berlin", "B-LOC"),
     ("for", "O"), ("the", "O"), ("conference", "O"), (".", "O")],
    [("Engineers", "O"), ("at", "O"), ("Google", "B-ORG"), ("presented", "O"), ("their", "O"), ("results", "O"),
     ("in", "O"), ("Tokyo", "B-LOC"), ("on", "O"), ("Monday", "O"), (".", "O")],
    [("The", "O"), ("weather", "O"), ("remained", "O"), ("pleasant", "O"), ("throughout", "O"), ("the", "O"),
     ("afternoon", "O"), (".", "O")],
]


def _lexicon() -> dict[str, str]:
    words = {w: t for s in SENTENCES for w, t in s}
    words.update({n.capitalize(): "B-PER" for n in NAMES})
    words.update({p.capitalize(): "B-LOC" for p in PLACES})
    return words


@pytest.fixture(scope="module")
def gazetteer(tmp_path_factory) -> tuple[Path, Path]:
    """(model folder, CoNLL test file): a tagger that tags each known word with its lexicon tag, others O."""
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers, processors
    from transformers import BertConfig, BertForTokenClassification, PreTrainedTokenizerFast

    folder = tmp_path_factory.mktemp("gazetteer")
    lexicon = _lexicon()
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    vocab = {w: i for i, w in enumerate(specials + sorted(lexicon))}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))  # no lower-casing: the gazetteer is case-sensitive
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=[("[CLS]", vocab["[CLS]"]), ("[SEP]", vocab["[SEP]"])])
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="[UNK]", pad_token="[PAD]",
                                        cls_token="[CLS]", sep_token="[SEP]", mask_token="[MASK]")
    hidden = 16
    config = BertConfig(vocab_size=len(vocab), hidden_size=hidden, num_hidden_layers=0, num_attention_heads=1,
                        intermediate_size=16, max_position_embeddings=64, pad_token_id=0,
                        id2label=dict(enumerate(TAGS)), label2id={t: i for i, t in enumerate(TAGS)})
    model = BertForTokenClassification(config)
    with torch.no_grad():  # word embedding = 10 x one-hot of the word's tag; nothing else adds to it
        emb = model.bert.embeddings
        emb.word_embeddings.weight.zero_()
        for word, i in vocab.items():
            emb.word_embeddings.weight[i, TAGS.index(lexicon.get(word, "O"))] = 10.0
        emb.position_embeddings.weight.zero_()
        emb.token_type_embeddings.weight.zero_()
        model.classifier.weight.zero_()
        model.classifier.weight[:, :len(TAGS)] = torch.eye(len(TAGS))
        model.classifier.bias.zero_()
    model.save_pretrained(folder / "model", safe_serialization=True)
    tokenizer.save_pretrained(folder / "model")
    data = folder / "test.conll"
    data.write_text("\n\n".join("\n".join(f"{w} {t}" for w, t in s) for s in SENTENCES) + "\n", encoding="utf-8")
    return folder / "model", data


def test_the_gazetteer_finds_exactly_the_gold_entities(gazetteer):
    model_dir, data = gazetteer
    found = tamellm.ner([" ".join(w for w, _ in s) for s in SENTENCES], model=str(model_dir))
    assert [[(e.text, e.label) for e in r.entities] for r in found[:2]] == [
        [("John Smith", "PER"), ("London", "LOC"), ("Microsoft", "ORG")],
        [("Mary", "PER"), ("Paris", "LOC"), ("Berlin", "LOC")]]
    examples = read_ner_examples(data, None, 0)
    assert examples[0].gold == [(0, 10, "PER"), (19, 25, "LOC"), (57, 66, "ORG")]
    assert examples[0].text[0:10] == "John Smith" and examples[3].gold == []


def test_typos_never_touch_the_entities_and_swaps_replace_them_with_the_same_type():
    example = NerExample("John Smith visited London yesterday with colleagues from Microsoft .",
                         [(0, 10, "PER"), (19, 25, "LOC"), (57, 66, "ORG")])
    context = PerturbContext(protected={example.text: [(s, e) for s, e, _ in example.gold]})
    for name in ("typo-keyboard", "typo-swap", "typo-drop", "typo-double"):
        for seed in range(10):
            out = NER_PERTURBATIONS[name].apply(example, seed, 0, context)
            assert out is not None and out.text != example.text
            assert all(word in out.text for word in ("John Smith", "London", "Microsoft")), (name, out.text)
    names = NER_PERTURBATIONS["swap-names"].apply(example, 0, 0, context)
    new = names.text.split(" visited")[0]
    assert new.lower() in NAMES and names.renames == {"john smith": new.lower()}
    assert names.text.endswith(" visited London yesterday with colleagues from Microsoft .")
    assert NER_PERTURBATIONS["swap-orgs"].apply(NerExample("no entity here .", []), 0, 0, context) is None
    appended = NER_PERTURBATIONS["add-irrelevant"].apply(example, 0, 0, context)
    assert appended.text.startswith(example.text) and appended.region == len(example.text)


def test_failures_are_entity_set_changes_and_only_those(gazetteer, tmp_path):
    model_dir, data = gazetteer
    result = run_ner_robustness(tamellm.load(str(model_dir)), data, attack_limit=3, seed=0)
    out = result.to_dict()
    assert out["task"] == "ner" and out["rows"] == 4 and out["clean_accuracy"] == 1.0
    by_name = {t["name"]: t for t in out["tests"]}
    assert set(by_name) == set(NER_PERTURBATIONS.names())
    # words it does not know are O: typos outside the entities, spacing, punctuation and distractors change nothing
    for name in ("typo-keyboard", "typo-swap", "typo-drop", "typo-double", "whitespace", "punctuation",
                 "add-irrelevant", "swap-names", "swap-places"):
        assert by_name[name]["failure_rate"] == 0.0 and by_name[name]["accuracy"] == 1.0, name
    assert by_name["swap-names"]["examples"] == 2 and by_name["swap-places"]["examples"] == 3
    # case-sensitive: upper-casing loses every entity of the three sentences that have one
    assert by_name["uppercase"]["examples"] == 4 and by_name["uppercase"]["failures"] == 3
    worst = by_name["uppercase"]["worst"][0]
    assert worst["found"] == [] and worst["lost"] == worst["expected"] and worst["expected"]
    # the organisations of the swap pool are unknown words: both swapped organisations are lost
    assert by_name["swap-orgs"]["failure_rate"] == 1.0 and by_name["swap-orgs"]["examples"] == 2
    assert all(any(e.endswith("(ORG)") for e in w["lost"]) for w in by_name["swap-orgs"]["worst"])
    assert out["attack"]["attacked"] == 3 and out["attack"]["success_rate"] == 0.0  # context never matters here


def test_the_attack_reports_a_change_only_when_the_model_really_changes(gazetteer):
    model_dir, _ = gazetteer
    model = tamellm.load(str(model_dir))
    example = NerExample("Mary travelled from Paris to Berlin for the conference .",
                         [(0, 4, "PER"), (20, 25, "LOC"), (29, 35, "LOC")])
    clean = model.predict(example.text).entities
    # a "synonym" the tagger knows as a place: writing it beside an entity adds a location
    run = attack_ner_one(model, example, clean, lambda w: ["meeting", "Rome"] if w == "conference" else [],
                         max_fraction=0.3, max_candidates=8)
    assert run["success"] and run["swaps"] == [["conference", "Rome"]] and run["extra"] == ["rome (LOC)"]
    assert {e.text for e in model.predict(run["adversarial"]).entities} == {"Mary", "Paris", "Berlin", "Rome"}
    failed = attack_ner_one(model, example, clean, lambda w: ["meeting"], max_fraction=0.3, max_candidates=8)
    assert not failed["success"] and failed["queries"] >= 1


def test_cli_prints_the_same_json_shape_for_ner_and_names_bad_input(gazetteer, tmp_path):
    model_dir, data = gazetteer
    cmd = [sys.executable, "-m", "tamellm.cli.main", "robustness", str(model_dir), "--data", str(data), "--json",
           "--attack-limit", "2", "--output", str(tmp_path / "report")]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert isinstance(result["clean_accuracy"], float) and isinstance(result["attack"]["success_rate"], float)
    for t in result["tests"]:
        assert isinstance(t["name"], str) and isinstance(t["failure_rate"], float)
        assert isinstance(t["accuracy"], float) and isinstance(t["examples"], int)
    page = (tmp_path / "report" / "robustness.html").read_text()
    assert "clean entity F1" in page and "lost: <span class=del>" in page
    bad = subprocess.run([sys.executable, "-m", "tamellm.cli.main", "robustness", str(model_dir), "--data",
                          str(data), "--text-column", "sentence"], capture_output=True, text=True, timeout=300)
    assert bad.returncode != 0 and "tokens and tags" in bad.stderr + bad.stdout
