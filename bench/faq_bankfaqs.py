"""The FAQ assistant on BankFAQs: retrieval quality of BM25, dense and the fused default, handoff, speed.

One question per distinct answer is indexed (its id is its row in the file); every other
question is asked, and any entry with the same answer counts as correct. Out-of-scope
questions for the handoff come from the SQuAD subset (Wikipedia questions: the FAQ answers
none of them). With ``--generate N`` the chat model rephrases the answer for N of the
questions: ROUGE-L against the gold answer beside the verbatim answer's, and how often the
reply cites the right id.

Run: .venv/bin/python bench/faq_bankfaqs.py [--generate 20] [--out-of-scope 200]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import pandas as pd
from common import DATA, write_results

from tamellm.apps.faq import FaqAssistant, build_faq
from tamellm.apps.faq.evaluation import LabelledQuestion
from tamellm.metrics import generation_metrics

MODES = {"bm25": "BM25 alone (bm25s, questions)", "dense": "dense alone (minilm-l6)",
         "hybrid": "fused default (RRF of both)"}


def _key(text: str) -> str:
    return " ".join(str(text).split()).casefold()


def split_bankfaqs() -> tuple[pd.DataFrame, list[LabelledQuestion], int]:
    """The rows to index (first question of each answer), the other questions, and how many of those
    are worded exactly like an indexed question of another answer (a tie at best for any retriever)."""
    frame = pd.read_csv(DATA / "bank_faq" / "BankFAQs.csv")
    frame["id"] = [str(i) for i in range(len(frame))]
    first = ~frame["Answer"].map(_key).duplicated()
    indexed = frame[first]
    ids_by_answer = indexed.groupby(indexed["Answer"].map(_key))["id"].apply(frozenset).to_dict()
    indexed_questions: dict[str, set[str]] = {}
    for q, a in zip(indexed["Question"], indexed["Answer"], strict=True):
        indexed_questions.setdefault(_key(q), set()).add(_key(a))
    queries, unwinnable = [], 0
    for question, answer in zip(frame[~first]["Question"], frame[~first]["Answer"], strict=True):
        queries.append(LabelledQuestion(question.strip(), ids_by_answer[_key(answer)]))
        unwinnable += bool(indexed_questions.get(_key(question), set()) - {_key(answer)})
    return indexed, queries, unwinnable


def out_of_scope(n: int) -> list[str]:
    with open(DATA / "squad_v1.1" / "dev_subset.jsonl", encoding="utf-8") as handle:
        questions = list(dict.fromkeys(json.loads(line)["question"].strip() for line in handle))
    return questions[:n]


def measure(assistant: FaqAssistant, queries: list[LabelledQuestion], outside: list[str], mode: str) -> dict:
    """Quality, handoff and speed of one retrieval mode (one pass, questions one at a time)."""
    ranks, latencies, handoff_in, handoff_out = [], [], [], []
    start = time.perf_counter()
    for item in queries:
        t = time.perf_counter()
        result = assistant.retrieve(item.question, top_k=10, mode=mode)
        latencies.append(time.perf_counter() - t)
        ids = [a.id for a in result.answers]
        ranks.append(next((r for r, i in enumerate(ids, 1) if i in item.expected), None))
        handoff_in.append(result.handoff)
    seconds = time.perf_counter() - start
    for question in outside:
        handoff_out.append(assistant.retrieve(question, mode=mode).handoff)
    right_in = [h != (r == 1) for h, r in zip(handoff_in, ranks, strict=True)]  # hand off exactly when wrong
    return {
        "arm": MODES[mode], "mode": mode,
        "recall@1": round(statistics.mean(r == 1 for r in ranks), 4),
        "recall@5": round(statistics.mean(r is not None and r <= 5 for r in ranks), 4),
        "mrr": round(statistics.mean(1 / r if r else 0.0 for r in ranks), 4),
        "handoff_in_scope": round(statistics.mean(handoff_in), 4),
        "handoff_out_of_scope": round(statistics.mean(handoff_out), 4) if outside else None,
        "handoff_accuracy": round(statistics.mean(right_in + handoff_out), 4),
        "p50_ms": round(statistics.median(latencies) * 1000, 1),
        "queries_per_s": round(len(queries) / seconds, 1),
    }


def measure_generation(assistant: FaqAssistant, queries: list[LabelledQuestion], answers: dict[str, str],
                       n: int) -> dict:
    """ROUGE-L of the generated reply and of the verbatim best answer against the gold answer, citations."""
    sample = queries[:: max(1, len(queries) // n)][:n]
    gold = [answers[next(iter(q.expected))] for q in sample]
    generated, verbatim, cites_right, latencies, handoffs = [], [], [], [], 0
    assistant.ask(sample[0].question, generate=True)  # load the chat model outside the timings
    for item in sample:
        t = time.perf_counter()
        result = assistant.ask(item.question, generate=True, mode="hybrid")
        latencies.append(time.perf_counter() - t)
        handoffs += result.handoff
        text = result.reply
        if not result.handoff:
            text = text.rsplit("[", 1)[0].strip()  # compare the words, not the citation
        generated.append(text)
        verbatim.append(result.answers[0].answer)
        cites_right.append(any(c in item.expected for c in result.cited))
    return {
        "questions": len(sample), "handoffs": handoffs,
        "rouge_l_generated": round(generation_metrics(gold, generated)["rouge_l"], 4),
        "rouge_l_verbatim": round(generation_metrics(gold, verbatim)["rouge_l"], 4),
        "cites_right_id": round(statistics.mean(cites_right), 4),
        "p50_s_with_generate": round(statistics.median(latencies), 2),
        "examples": [{"question": q.question, "reply": g} for q, g in zip(sample[:3], generated[:3], strict=True)],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--generate", type=int, default=20, help="questions answered with --generate (0: skip)")
    parser.add_argument("--out-of-scope", type=int, default=200, help="SQuAD questions asked for the handoff")
    args = parser.parse_args()
    indexed, queries, unwinnable = split_bankfaqs()
    outside = out_of_scope(args.out_of_scope)
    with tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp) / "faq.csv"
        indexed.rename(columns={"Question": "question", "Answer": "answer"})[["id", "question", "answer"]].to_csv(
            csv, index=False)
        built = build_faq(csv, Path(tmp) / "faq")
        assistant = FaqAssistant.load(Path(tmp) / "faq")
    assistant.retrieve("warm up")
    rows = [measure(assistant, queries, outside, mode) for mode in MODES]
    by_mode = {row["mode"]: row for row in rows}
    for row in rows:
        row["Δ recall@1 vs BM25"] = round(row["recall@1"] - by_mode["bm25"]["recall@1"], 4)
        row["Δ recall@1 vs dense"] = round(row["recall@1"] - by_mode["dense"]["recall@1"], 4)
    generation = None
    if args.generate:
        answers = dict(zip(indexed["id"], indexed["Answer"], strict=True))
        generation = measure_generation(assistant, queries, answers, args.generate)
    data = {
        "data": "BankFAQs.csv", "indexed": len(indexed), "asked": len(queries),
        "unwinnable_asked": unwinnable, "out_of_scope_asked": len(outside),
        "build_seconds": round(built.seconds, 1), "calibration": built.calibration,
        "results": rows, "generation": generation,
        "not_measured": ["--tune (contrastive adaptation of the encoder)", "reranker"],
    }
    table = [{k: v for k, v in row.items() if k != "mode"} for row in rows]
    md = write_results("faq_bankfaqs" if args.generate else "faq_bankfaqs_retrieval", data, table)
    notes = [
        "",
        f"{len(indexed)} entries indexed, {len(queries)} questions asked ({unwinnable} are worded exactly like an "
        f"indexed question of another answer), {len(outside)} SQuAD questions out of scope; build "
        f"{built.seconds:.1f} s; handoff threshold {built.calibration['threshold']} "
        f"({built.calibration['method']}). Latency: `retrieve` one question at a time (query embedding for the "
        "handoff included in every arm).",
    ]
    if generation:
        notes.append(
            f"\n`--generate` on {generation['questions']} questions: ROUGE-L {generation['rouge_l_generated']} "
            f"(verbatim best answer {generation['rouge_l_verbatim']}), cites a right id "
            f"{generation['cites_right_id']:.0%}, p50 {generation['p50_s_with_generate']} s per answer.")
    with open(md, "a", encoding="utf-8") as out:
        out.write("\n".join(notes) + "\n")
    print(md.read_text())


if __name__ == "__main__":
    main()
