"""NER and instruction tuning through the same loop, with tiny models built in the test session."""

from __future__ import annotations

import json
import random

import pytest

import tamellm
from tamellm.config import config_from_dict
from tamellm.training.collate import IGNORE_INDEX
from tamellm.training.run import train_model

NAMES = ["alice", "bob", "carol", "dave"]
PLACES = ["paris", "london", "berlin", "rome"]


pytestmark = pytest.mark.usefixtures("quiet_one_thread")


def write_conll(path, n=60, seed=0):
    rng = random.Random(seed)
    blocks = []
    for _ in range(n):
        name, place = rng.choice(NAMES), rng.choice(PLACES)
        blocks.append(f"{name} B-PER\nwent O\nto O\n{place} B-LOC\ntoday O\n")
    path.write_text("\n".join(blocks), encoding="utf-8")
    return path


def test_ner_trains_from_conll_and_aligns_labels_to_first_pieces(tmp_path, tiny_bert_dir, bert_tokenizer):
    from tamellm.training.task_adapters.token_classification import TokenClassificationAdapter, load_ner_splits

    data = write_conll(tmp_path / "train.conll")
    config = config_from_dict({"task": "ner", "model": str(tiny_bert_dir), "seed": 1,
                               "data": {"train": str(data)},
                               "train": {"strategy": "full", "epochs": 8, "batch_size": 8, "learning_rate": 5e-3,
                                         "early_stopping_patience": 0}})
    adapter = TokenClassificationAdapter(load_ner_splits(config), {})
    assert adapter.label_map.names[0] == "O" and set(adapter.label_map.names) == {"O", "B-LOC", "B-PER"}
    feature = adapter.features(bert_tokenizer, 32)["train"][0]
    assert feature["labels"][0] == IGNORE_INDEX and feature["labels"][-1] == IGNORE_INDEX  # [CLS] / [SEP]
    assert sum(x != IGNORE_INDEX for x in feature["labels"]) == 5  # one label per word
    result = train_model(config, run_dir=tmp_path / "run")
    assert result.metrics["validation"]["f1"] >= 0.7, result.metrics["validation"]
    manifest = json.loads((result.model_dir / "tamellm.json").read_text())
    assert manifest["task"] == "ner" and manifest["primary_metric"] == "f1"
    entities = tamellm.load(result.model_dir).predict("bob went to rome today").entities
    assert {e.label for e in entities} <= {"PER", "LOC"}


def test_instruction_tuning_masks_the_prompt_and_lowers_loss(tmp_path, tiny_gpt2_dir):
    from transformers import AutoTokenizer

    from tamellm.data import Splits
    from tamellm.training.task_adapters.instruction import InstructionAdapter

    rows = [{"question": f"what is the code for {w}?", "answer": f"the code is {w}"} for w in NAMES * 8]
    data = tmp_path / "faq.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    tokenizer = AutoTokenizer.from_pretrained(tiny_gpt2_dir)
    import pandas as pd

    adapter = InstructionAdapter(Splits(pd.DataFrame(rows[:2])), {})
    adapter.prepare_tokenizer(tokenizer, None)
    feature = adapter.features(tokenizer, 64)["train"][0]
    answer = tokenizer("the code is alice" + tokenizer.eos_token, add_special_tokens=False)["input_ids"]
    assert feature["labels"][-len(answer):] == answer
    assert set(feature["labels"][:-len(answer)]) == {IGNORE_INDEX}
    config = config_from_dict({"task": "generate", "model": str(tiny_gpt2_dir), "seed": 2,
                               "data": {"train": str(data)},
                               "train": {"strategy": "lora", "epochs": 3, "batch_size": 8, "learning_rate": 1e-2,
                                         "early_stopping_patience": 0}})
    result = train_model(config, run_dir=tmp_path / "run")
    losses = [row["loss"] for row in result.history]
    assert losses[-1] < losses[0], losses
    assert "perplexity" in result.metrics["validation"]
    generator = tamellm.load(result.model_dir)
    assert isinstance(generator.predict("what is the code for bob?", max_new_tokens=4).text, str)


@pytest.mark.parametrize("strategy", ["prompt-tuning", "prefix-tuning"])
def test_prompt_and_prefix_tuning_a_chat_model_save_an_adapter_the_generator_runs(tmp_path, tiny_gpt2_dir, strategy):
    rows = [{"prompt": f"code for {w}?", "response": f"code {w}"} for w in NAMES * 6]
    data = tmp_path / "pairs.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    config = config_from_dict({"task": "generate", "model": str(tiny_gpt2_dir), "data": {"train": str(data)},
                               "train": {"strategy": strategy, "epochs": 1, "batch_size": 8}})
    result = train_model(config, run_dir=tmp_path / "run", params={"num_virtual_tokens": 4})
    assert (result.model_dir / "adapter_model.safetensors").is_file()
    generator = tamellm.load(result.model_dir)
    assert type(generator).__name__ == "PeftGenerator"
    assert isinstance(generator.predict("code for bob?", max_new_tokens=3).text, str)
