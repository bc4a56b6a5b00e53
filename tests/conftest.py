"""Shared fixtures: tiny random models built in the test session, and a private TAMELLM_HOME.

Nothing here downloads anything. Each tiny model (a 2-layer BERT or GPT-2 with a
tokenizer trained on ``SENTENCES``) is built once per session, lazily: a test module
that asks for none of them pays nothing.
"""

from __future__ import annotations

from pathlib import Path

import pytest

SENTENCES = [
    "Barack Obama visited Paris in the spring.",
    "The striker scored twice in the final match.",
    "Angela Merkel met the president in Berlin.",
    "This phone is great and the battery lasts all day.",
    "The film was boring and far too long.",
    "Markets fell sharply after the bank raised rates.",
    "A cat sits on the mat near the window.",
    "A kitten rests on a rug by the fire.",
    "Marie Curie worked in Warsaw and later in Paris.",
    "The election results surprised everyone in London.",
    "I love this restaurant, the food is wonderful.",
    "The service was terrible and the soup was cold.",
    "Shares of the company rose by ten percent today.",
    "The team won the cup after a long season.",
    "Alice and Bob walked along the river in Rome.",
    "Please summarize the meeting notes for the team.",
    "What is the capital of France?",
    "The capital of France is Paris.",
    "Rain is expected tomorrow in New York.",
    "The new laptop is fast, light and quiet.",
    "John Smith moved from Madrid to Tokyo last year.",
]

BERT_SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
NER_LABELS = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]
CHAT_TEMPLATE = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n{{ message['content'] }}<|im_end|>\n"
    "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
MAX_POSITIONS = 64  # small on purpose: long inputs must be truncated, not overflow the position table


@pytest.fixture(scope="session", autouse=True)
def private_tamellm_home(tmp_path_factory):
    """Point TAMELLM_HOME at a temporary folder so that no test writes to ~/.cache."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TAMELLM_HOME", str(tmp_path_factory.mktemp("tamellm-home")))
        mp.delenv("TAMELLM_ALLOW_NETWORK", raising=False)
        yield


@pytest.fixture
def persistent_tamellm_home(monkeypatch):
    """The per-user cache (~/.cache/tamellm): the SmolLM2 GGUF conversion (~20-45 s) runs once a machine."""
    path = Path.home() / ".cache" / "tamellm"
    monkeypatch.setenv("TAMELLM_HOME", str(path))
    return path


def _bert_tokenizer():
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.decoder = decoders.WordPiece()
    trainer = trainers.WordPieceTrainer(vocab_size=400, special_tokens=BERT_SPECIALS)
    tok.train_from_iterator(SENTENCES, trainer)
    specials = [("[CLS]", tok.token_to_id("[CLS]")), ("[SEP]", tok.token_to_id("[SEP]"))]
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1", special_tokens=specials
    )
    # No model_max_length on purpose: many real tokenizers lack one, so the model's
    # position table must be what bounds the input length.
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]", sep_token="[SEP]",
        mask_token="[MASK]",
    )


def _bert_config(tokenizer, **extra):
    from transformers import BertConfig

    return BertConfig(
        vocab_size=len(tokenizer), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
        intermediate_size=64, max_position_embeddings=MAX_POSITIONS, pad_token_id=tokenizer.pad_token_id,
        **extra,
    )


def _save(model, tokenizer, folder: Path) -> Path:
    model.save_pretrained(folder, safe_serialization=True)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def bert_tokenizer():
    return _bert_tokenizer()


@pytest.fixture(scope="session")
def tiny_bert_dir(tmp_path_factory, bert_tokenizer) -> Path:
    """A random 2-layer BertModel folder: an encoder (task embed / zero-shot)."""
    import torch
    from transformers import BertModel

    torch.manual_seed(0)
    model = BertModel(_bert_config(bert_tokenizer))
    return _save(model, bert_tokenizer, tmp_path_factory.mktemp("tiny-bert"))


@pytest.fixture(scope="session")
def tiny_classifier_dir(tmp_path_factory, bert_tokenizer) -> Path:
    """A random BertForSequenceClassification folder with labels negative / positive."""
    import torch
    from transformers import BertForSequenceClassification

    torch.manual_seed(1)
    config = _bert_config(bert_tokenizer, id2label={0: "negative", 1: "positive"},
                          label2id={"negative": 0, "positive": 1})
    model = BertForSequenceClassification(config)
    return _save(model, bert_tokenizer, tmp_path_factory.mktemp("tiny-classifier"))


@pytest.fixture(scope="session")
def tiny_ner_dir(tmp_path_factory, bert_tokenizer) -> Path:
    """A random BertForTokenClassification folder tagging O, B-PER, I-PER, B-LOC, I-LOC.

    The classifier bias favours B-PER so that a random model still emits entities.
    """
    import torch
    from transformers import BertForTokenClassification

    torch.manual_seed(2)
    config = _bert_config(bert_tokenizer, id2label=dict(enumerate(NER_LABELS)),
                          label2id={label: i for i, label in enumerate(NER_LABELS)})
    model = BertForTokenClassification(config)
    with torch.no_grad():
        model.classifier.bias.copy_(torch.tensor([0.0, 3.0, 0.0, 1.0, 0.0]))
    return _save(model, bert_tokenizer, tmp_path_factory.mktemp("tiny-ner"))


def _gpt2_tokenizer():
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=400, special_tokens=["<|endoftext|>", "<|im_start|>", "<|im_end|>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tok.train_from_iterator(SENTENCES, trainer)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=tok, bos_token="<|endoftext|>", eos_token="<|im_end|>", pad_token="<|endoftext|>",
        unk_token="<|endoftext|>",
    )
    tokenizer.chat_template = CHAT_TEMPLATE
    return tokenizer


def _gpt2(tokenizer, seed: int):
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    torch.manual_seed(seed)
    config = GPT2Config(
        vocab_size=len(tokenizer), n_positions=256, n_embd=32, n_layer=2, n_head=2,
        bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    return GPT2LMHeadModel(config)


@pytest.fixture(scope="session")
def gpt2_tokenizer():
    return _gpt2_tokenizer()


@pytest.fixture(scope="session")
def tiny_gpt2_dir(tmp_path_factory, gpt2_tokenizer) -> Path:
    """A random 2-layer GPT-2 with a byte-level BPE tokenizer and a ChatML-like chat template."""
    model = _gpt2(gpt2_tokenizer, seed=3)
    return _save(model, gpt2_tokenizer, tmp_path_factory.mktemp("tiny-gpt2"))


def _constant_gpt2(tokenizer, token_id: int, folder: Path) -> Path:
    """A GPT-2 whose greedy choice is always ``token_id``.

    Its final layer norm outputs one constant vector that matches the (tied) embedding
    of ``token_id`` far better than any other token's.
    """
    import torch

    model = _gpt2(tokenizer, seed=4)
    with torch.no_grad():
        direction = torch.ones(model.config.n_embd)
        model.transformer.ln_f.weight.zero_()
        model.transformer.ln_f.bias.copy_(direction)
        model.transformer.wte.weight[token_id] = direction * 10
    return _save(model, tokenizer, folder)


@pytest.fixture(scope="session")
def tiny_gpt2_eos_dir(tmp_path_factory, gpt2_tokenizer) -> Path:
    """A GPT-2 that answers the end-of-sequence token at once (an empty, finished answer)."""
    folder = tmp_path_factory.mktemp("tiny-gpt2-eos")
    return _constant_gpt2(gpt2_tokenizer, gpt2_tokenizer.eos_token_id, folder)


@pytest.fixture(scope="session")
def tiny_gpt2_the_dir(tmp_path_factory, gpt2_tokenizer) -> Path:
    """A GPT-2 that answers " the the the ..." (one word per token) until it is stopped."""
    (token_id,) = gpt2_tokenizer(" the", add_special_tokens=False)["input_ids"]
    return _constant_gpt2(gpt2_tokenizer, token_id, tmp_path_factory.mktemp("tiny-gpt2-the"))



def _sentence_folder(encoder, tokenizer, folder: Path) -> Path:
    """``encoder`` saved as a sentence-transformers folder: mean pooling, then normalisation."""
    import json

    folder = _save(encoder, tokenizer, folder)
    modules = [{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
               {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
               {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"}]
    (folder / "modules.json").write_text(json.dumps(modules), encoding="utf-8")
    (folder / "1_Pooling").mkdir()
    (folder / "1_Pooling" / "config.json").write_text(json.dumps(
        {"word_embedding_dimension": 32, "pooling_mode_cls_token": False, "pooling_mode_mean_tokens": True}))
    (folder / "2_Normalize").mkdir()
    return folder


@pytest.fixture(scope="session")
def tiny_sentence_dir(tmp_path_factory, bert_tokenizer) -> Path:
    """A tiny BertModel laid out as a sentence-transformers folder (as the packaged MiniLM)."""
    import torch
    from transformers import BertModel

    torch.manual_seed(0)
    return _sentence_folder(BertModel(_bert_config(bert_tokenizer)), bert_tokenizer,
                            tmp_path_factory.mktemp("tiny-sentence"))


@pytest.fixture(scope="session")
def tiny_mpnet_sentence_dir(tmp_path_factory, bert_tokenizer) -> Path:
    """A tiny MPNetModel laid out as a sentence-transformers folder (as all-mpnet-base-v2)."""
    import torch
    from transformers import MPNetConfig, MPNetModel

    torch.manual_seed(0)
    config = MPNetConfig(vocab_size=len(bert_tokenizer), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                         intermediate_size=64, max_position_embeddings=MAX_POSITIONS + 2,
                         pad_token_id=bert_tokenizer.pad_token_id)
    return _sentence_folder(MPNetModel(config), bert_tokenizer, tmp_path_factory.mktemp("tiny-mpnet-sentence"))


@pytest.fixture
def quiet_one_thread(monkeypatch):
    """Trackers off and one torch thread: tiny training runs go ~4x faster on a busy 2-core box."""
    import torch

    monkeypatch.setenv("TAMELLM_TRACKING", "0")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
