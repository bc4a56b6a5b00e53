"""Which frozen encoder, and which logistic-regression penalty, for a head-only text classifier.

Each catalog encoder embeds the training and test texts once (mean-pooled, normalised, as
tamellm's head-only reads them; E5's tokenizer adds its "query: " prefix); a logistic regression
is scored on the test texts at C = 1, at the C chosen by 5-fold cross-validation on the training
texts (what tamellm's head now does), and at the best C in hindsight.
Default data: a stratified 1,800 / 1,000 split (seed 0) of
``twitter_financial_news_sentiment/sent_train.csv`` (labels 0/1/2 = bearish/bullish/neutral); or
pass ``--train`` and ``--test`` CSVs with ``text`` and ``label`` columns.

    .venv/bin/python bench/encoder_heads.py --encoders minilm-l6,multilingual-e5-small,all-mpnet-base-v2

Writes bench/results/encoder_heads.json and .md.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
import pandas as pd
import torch
from common import DATA, machine, write_results

CS = (0.25, 1.0, 4.0, 16.0, 64.0)
NAMES = {0: "bearish", 1: "bullish", 2: "neutral"}


def default_split(train_rows: int, test_rows: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    from sklearn.model_selection import train_test_split

    frame = pd.read_csv(DATA / "twitter_financial_news_sentiment" / "sent_train.csv")
    frame = frame.assign(label=frame["label"].map(NAMES))[["text", "label"]]
    train, rest = train_test_split(frame, train_size=train_rows, stratify=frame["label"], random_state=seed)
    test, _ = train_test_split(rest, train_size=test_rows, stratify=rest["label"], random_state=seed)
    return train, test


def embed(encoder: str, texts: list[str]) -> tuple[np.ndarray, float]:
    from transformers import AutoModel, AutoTokenizer

    from tamellm.models import resolve

    folder = resolve(encoder).path
    tokenizer, model = AutoTokenizer.from_pretrained(folder), AutoModel.from_pretrained(folder).eval()
    order = np.argsort([len(t) for t in texts])
    out = np.zeros((len(texts), model.config.hidden_size), dtype=np.float32)
    start = time.perf_counter()
    with torch.no_grad():
        for i in range(0, len(texts), 64):
            rows = order[i:i + 64]
            batch = tokenizer([texts[j] for j in rows], padding=True, truncation=True, max_length=128,
                              return_tensors="pt")
            hidden = model(**batch).last_hidden_state
            mask = batch["attention_mask"].unsqueeze(-1).float()
            out[rows] = torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1), dim=-1).numpy()
    return out, time.perf_counter() - start


def scores(train_x: np.ndarray, train_y: np.ndarray, test_x: np.ndarray, test_y: np.ndarray) -> dict:
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import f1_score
    from sklearn.model_selection import StratifiedKFold, cross_val_score

    folds = StratifiedKFold(5, shuffle=True, random_state=0)
    cv = [cross_val_score(LogisticRegression(C=c, max_iter=3000), train_x, train_y, cv=folds).mean() for c in CS]
    test = {}
    for c in CS:
        predicted = LogisticRegression(C=c, max_iter=3000).fit(train_x, train_y).predict(test_x)
        test[c] = (float((predicted == test_y).mean()), float(f1_score(test_y, predicted, average="macro")))
    chosen = CS[int(np.argmax(cv))]
    best = max(CS, key=lambda c: test[c][0])
    return {"accuracy_c1": test[1.0][0], "cv_c": chosen, "accuracy_cv_c": test[chosen][0],
            "macro_f1_cv_c": test[chosen][1], "best_c_on_test": best, "accuracy_best_c": test[best][0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--encoders", default="minilm-l6,multilingual-e5-small")
    parser.add_argument("--train")
    parser.add_argument("--test")
    parser.add_argument("--train-rows", type=int, default=1800)
    parser.add_argument("--test-rows", type=int, default=1000)
    args = parser.parse_args()
    torch.set_num_threads(os.cpu_count() or 1)
    if args.train and args.test:
        train, test = pd.read_csv(args.train), pd.read_csv(args.test)
    else:
        train, test = default_split(args.train_rows, args.test_rows, 0)
    texts = train["text"].astype(str).tolist() + test["text"].astype(str).tolist()
    train_y, test_y = np.asarray(train["label"], dtype=object), np.asarray(test["label"], dtype=object)
    rows = []
    for encoder in args.encoders.split(","):
        vectors, seconds = embed(encoder, texts)
        row = {"encoder": encoder, "embed_s": round(seconds, 1), "texts": len(texts),
               "load_after": os.getloadavg()[0]}
        row.update(scores(vectors[:len(train)], train_y, vectors[len(train):], test_y))
        rows.append(row)
        print(row, flush=True)
    write_results("encoder_heads", {"machine": machine(), "train": len(train), "test": len(test),
                                    "source": args.train or "sent_train.csv split"}, rows)


if __name__ == "__main__":
    main()
