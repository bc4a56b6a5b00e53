"""Helpers for the monitor's tests and replay benchmark (no tests here).

``build_nb_classifier`` writes a real classifier folder (a 1-layer BertForSequenceClassification
with a word-level tokenizer) whose weights encode multinomial naive Bayes learned from
labelled texts: every word's embedding holds its centred per-class log-likelihoods (padded
so that all embeddings have the same norm, which keeps LayerNorm linear), attention is
uniform (query and key weights zero), so the [CLS] state is the mean of the words' vectors,
and the pooler (tanh, monotone) and classifier read the class dimensions. It loads through
``tamellm.load`` like any fine-tuned folder and predicts in milliseconds, deterministically.
``replay_events`` makes a stream of real financial tweets with synthetic times and entities.
"""

from __future__ import annotations

import csv
import json
import math
import random
import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "twitter_financial_news_sentiment" / "sent_train.csv"
TWEET_LABELS = ["bearish", "bullish", "neutral"]  # the dataset's 0, 1, 2
WORD = re.compile(r"\w+|[^\w\s]+")  # what the Whitespace pre-tokenizer splits
SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def read_tweets(limit: int | None = None) -> list[tuple[str, str]]:
    """(text, bearish/bullish/neutral) from the Twitter financial news sentiment training split."""
    with open(DATA, encoding="utf-8") as handle:
        rows = [(r["text"], TWEET_LABELS[int(r["label"])]) for r in csv.DictReader(handle)]
    return rows[:limit] if limit else rows


def split_tweets() -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """Two thirds to train on, one third held out for replays (interleaved: the file is ordered in clumps)."""
    rows = read_tweets()
    return [r for i, r in enumerate(rows) if i % 3], [r for i, r in enumerate(rows) if not i % 3]


def label_pool(rows: list[tuple[str, str]]) -> dict[str, list[str]]:
    """bearish / bullish / neutral -> texts."""
    return {label: [t for t, g in rows if g == label] for label in TWEET_LABELS}


def shared_nb_classifier(tmp_path_factory) -> Path:
    """The classifier built from ``split_tweets()``'s training part, once per test session."""
    folder = tmp_path_factory.getbasetemp() / "monitor-nb-classifier"
    if not (folder / "config.json").exists():
        train, _ = split_tweets()
        build_nb_classifier(folder, [t for t, _ in train], [g for _, g in train])
    return folder


def build_nb_classifier(folder: Path, texts: list[str], labels: list[str], min_count: int = 2) -> Path:
    """Write the naive-Bayes-in-BERT classifier folder described above; return ``folder``."""
    import torch
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors
    from transformers import BertConfig, BertForSequenceClassification, PreTrainedTokenizerFast

    classes = sorted(set(labels))
    counts = {c: Counter() for c in classes}
    for text, label in zip(texts, labels, strict=True):
        counts[label].update(WORD.findall(text.lower()))
    total = Counter()
    for c in classes:
        total.update(counts[c])
    vocab_words = sorted(w for w, n in total.items() if n >= min_count)
    vocab = {tok: i for i, tok in enumerate(SPECIALS + vocab_words)}
    k = len(classes)
    hidden = k + 2 + 3  # class dims, two padding dims, spare
    sums = {c: sum(counts[c][w] for w in vocab_words) + len(vocab_words) for c in classes}
    vectors = torch.zeros(len(vocab), hidden)
    nb = {}
    for w in vocab_words:
        ll = [math.log((counts[c][w] + 1) / sums[c]) for c in classes]
        mean = sum(ll) / k
        nb[w] = [x - mean for x in ll]
    radius = 1.0 + max(math.sqrt(sum(x * x for x in v)) for v in nb.values())
    for w, v in nb.items():
        pad = math.sqrt(max(radius ** 2 - sum(x * x for x in v), 0.0) / 2)
        vectors[vocab[w], :k] = torch.tensor(v)
        vectors[vocab[w], k], vectors[vocab[w], k + 1] = pad, -pad
    for tok in SPECIALS:  # no class evidence, same norm
        pad = radius / math.sqrt(2)
        vectors[vocab[tok], k], vectors[vocab[tok], k + 1] = pad, -pad

    tok = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    tok.normalizer = normalizers.Lowercase()
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=[("[CLS]", vocab["[CLS]"]), ("[SEP]", vocab["[SEP]"])])
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="[UNK]", pad_token="[PAD]",
                                        cls_token="[CLS]", sep_token="[SEP]", mask_token="[MASK]")
    config = BertConfig(vocab_size=len(vocab), hidden_size=hidden, num_hidden_layers=1, num_attention_heads=1,
                        intermediate_size=4, max_position_embeddings=128, pad_token_id=0,
                        id2label=dict(enumerate(classes)), label2id={c: i for i, c in enumerate(classes)})
    model = BertForSequenceClassification(config)
    with torch.no_grad():
        for p in model.parameters():
            p.zero_()
        bert = model.bert
        bert.embeddings.word_embeddings.weight.copy_(vectors)
        for norm in (bert.embeddings.LayerNorm, bert.encoder.layer[0].attention.output.LayerNorm,
                     bert.encoder.layer[0].output.LayerNorm):
            norm.weight.fill_(1.0)
        layer = bert.encoder.layer[0]
        layer.attention.self.value.weight.copy_(torch.eye(hidden))
        layer.attention.output.dense.weight.copy_(torch.eye(hidden))
        bert.pooler.dense.weight[:k, :k] = torch.eye(k)
        model.classifier.weight[:, :k] = torch.eye(k) * 10
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder, safe_serialization=True)
    tokenizer.save_pretrained(folder)
    return folder


def replay_events(pool: dict[str, list[str]], entities: dict[str, str], seed: int, hours: float = 24,
                  per_hour: float = 30.0, episode_entity: str | None = None, episode_start_h: float = 16,
                  episode_hours: float = 2, episode_negative: float = 0.8, episode_positive: float = 0.05,
                  episode_rate: float = 1.0, background_negative: float = 0.15,
                  background_positive: float = 0.25, unmatched_per_hour: float = 6.0, late_fraction: float = 0.05,
                  max_late_s: float = 240, start: datetime | None = None) -> list[dict]:
    """Events (dicts with id, timestamp, text, source) in arrival order.

    ``pool`` maps bearish/bullish/neutral to real texts; each entity (name -> the alias put
    in its texts) gets Poisson arrivals; during the episode ``episode_entity``'s texts are bearish
    with probability ``episode_negative`` and bullish with ``episode_positive``, and arrive
    ``episode_rate`` times as often. A few events arrive late (out of order, within ``max_late_s``).
    """
    rng = random.Random(seed)
    start = start or datetime(2026, 1, 5, tzinfo=UTC)
    items = []

    def draw(neg: float, pos: float) -> str:
        u = rng.random()
        return "bearish" if u < neg else "bullish" if u < neg + pos else "neutral"

    def add(ts: float, text: str, source: str) -> None:
        items.append((ts, text, source))

    for entity, alias in entities.items():
        t = 0.0
        while True:
            during = entity == episode_entity and episode_start_h <= t / 3600 < episode_start_h + episode_hours
            t += rng.expovariate(per_hour * (episode_rate if during else 1.0) / 3600)
            if t >= hours * 3600:
                break
            hour = t / 3600
            in_episode = entity == episode_entity and episode_start_h <= hour < episode_start_h + episode_hours
            label = (draw(episode_negative, episode_positive) if in_episode
                     else draw(background_negative, background_positive))
            text = rng.choice(pool[label])
            text = f"{alias}: {text}" if rng.random() < 0.5 else f"{text} ({alias})"
            add(t, text, entity)
    t = 0.0
    while unmatched_per_hour:
        t += rng.expovariate(unmatched_per_hour / 3600)
        if t >= hours * 3600:
            break
        add(t, rng.choice(pool[rng.choice(TWEET_LABELS)]), "other")
    items.sort()
    arrival = [(ts + (rng.uniform(30, max_late_s) if rng.random() < late_fraction else 0.0), i)
               for i, (ts, _, _) in enumerate(items)]
    arrival.sort()
    events = []
    for _, i in arrival:
        ts, text, source = items[i]
        moment = start + timedelta(seconds=ts)
        events.append({"id": f"s{seed}-{i}", "timestamp": moment.isoformat().replace("+00:00", "Z"),
                       "text": text, "source": source})
    return events


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    """One JSON object per line."""
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path
