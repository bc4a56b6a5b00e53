"""The FAQ assistant on BankFAQs: every retrieval arm in one run, handoff, speed.

One question per distinct answer is indexed (its id is its row in the file); every other
question is asked, and any entry with the same answer counts as correct. Arms: BM25 alone,
dense alone, the fused default (score fusion, weight calibrated on the FAQ alone), reciprocal
rank fusion (the earlier default), ``--tune`` (dense and fused with the encoder adapted to the
FAQ), and the ``--rerank`` cross-encoder over the fused candidates (base and tuned encoder).
Nothing is fitted on the asked questions: tuning, reranker and fusion weight see only the
indexed entries.

Many asked questions are worded exactly like an indexed question that several answers share
(near-identical answers of the FAQ): no retriever can tell those apart, so they are counted by
kind (``novel`` wording, ``exact`` wording of its own entry only, ``tie`` with other entries)
and recall@1 is also given with ties counted as a fair coin (1/n).

Out-of-scope questions for the handoff come from the SQuAD subset (Wikipedia questions: the FAQ
answers none of them). With ``--generate N`` the chat model rephrases the answer for N of the
questions: ROUGE-L against the gold answer beside the verbatim answer's, and how often the
reply cites the right id.

Every arm is compared with BM25 alone and with dense alone question by question: how many
questions one gets right at rank 1 and the other wrong, with an exact two-sided sign test on those
(a difference of a few questions among 328 is noise). A second question set, ``--rewordings N``
questions made from the FAQ itself with another seed than the build's calibration (short words
dropped from an indexed question), is asked of the base index's BM25, dense and fused modes: it has
no ties between near-duplicate entries, so it shows what fusion does where the wording differs.
The paired counts are also given on the newly worded questions alone, and score fusion is swept over
every dense weight the build tries (reported beside the MRR the build chose the weight by; the
asked questions never choose anything).

Arms this run does not measure (``--tune``, ``--rerank``, ``--generate``, encoders not asked for) are
carried over from the previous results file of the same name, each with the date it was measured.

The ``--tune`` and ``--rerank`` arms train models (minutes on the shared 2-core machine) and the
``--encoders`` arms embed the FAQ again with other catalog encoders: each is on request.

Run: .venv/bin/python bench/faq_bankfaqs.py [--generate 20] [--out-of-scope 200] [--rewordings 400]
[--encoders minilm-l6,all-mpnet-base-v2] [--tune] [--rerank]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from common import DATA, RESULTS, write_results
from scipy.stats import binomtest

from tamellm.apps.faq import FaqAssistant, build_faq
from tamellm.apps.faq.calibration import FUSION_WEIGHTS, simulated_queries
from tamellm.apps.faq.evaluation import LabelledQuestion
from tamellm.apps.faq.fusion import score_fusion
from tamellm.apps.faq.index import embed
from tamellm.metrics import generation_metrics

LOAD_BEFORE = os.getloadavg()

ARMS = {  # arm -> (index, retrieval mode, rerank, label); which arms run: ``selected_arms``
    "bm25": ("base", "bm25", False, "BM25 alone (bm25s, questions)"),
    "dense": ("base", "dense", False, "dense alone (the default encoder: {encoder})"),
    "hybrid": ("base", "hybrid", False, "fused default ({encoder} + BM25, score fusion, calibrated weight)"),
    "rrf": ("rrf", "hybrid", False, "reciprocal rank fusion (earlier default)"),
    "dense_tuned": ("tuned", "dense", False, "dense, --tune"),
    "hybrid_tuned": ("tuned", "hybrid", False, "fused, --tune"),
    "rerank": ("base", "hybrid", True, "fused + --rerank"),
    "rerank_tuned": ("tuned+rerank", "hybrid", True, "fused, --tune + --rerank"),
}
OPTIONAL = {"tune": ("dense_tuned", "hybrid_tuned"), "rerank": ("rerank",)}


def encoder_arms(encoders: list[str]) -> None:
    """Add a dense and a fused arm per extra encoder (its own index, fusion weight calibrated the same way)."""
    for name in encoders:
        ARMS[f"dense:{name}"] = (f"enc:{name}", "dense", False, f"dense alone ({name})")
        ARMS[f"hybrid:{name}"] = (f"enc:{name}", "hybrid", False, f"fused ({name} + BM25, calibrated weight)")


def selected_arms(args: argparse.Namespace) -> list[str]:
    """The arms this run measures: the four base arms, the encoder arms, and tune / rerank on request."""
    skip = set()
    for flag, arms in OPTIONAL.items():
        if not getattr(args, flag):
            skip.update(arms)
    if not (args.tune and args.rerank):
        skip.add("rerank_tuned")
    return [arm for arm in ARMS if arm not in skip]


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


def kinds(indexed: pd.DataFrame, queries: list[LabelledQuestion]) -> list[str]:
    """Per asked question: ``novel`` wording, ``exact`` (worded as its own entry only), ``tie`` (worded as its
    own entry and others'), ``other`` (worded as other entries' question only)."""
    by_question: dict[str, set[str]] = {}
    for entry_id, question in zip(indexed["id"], indexed["Question"], strict=True):
        by_question.setdefault(_key(question), set()).add(entry_id)
    out = []
    for item in queries:
        same = by_question.get(_key(item.question), set())
        out.append("novel" if not same else "exact" if same <= item.expected else
                   "tie" if same & item.expected else "other")
    return out


def fair_top1(item: LabelledQuestion, answers: list) -> float:
    """recall@1 with ties at the top counted as a fair coin: right entries among the tied best / tied best."""
    best = answers[0].score
    tied = [a.id for a in answers if abs(a.score - best) <= 1e-6 * max(1.0, abs(best))]
    return sum(i in item.expected for i in tied) / len(tied)


def fair_reciprocal_rank(item: LabelledQuestion, answers: list) -> float:
    """Reciprocal rank of the best right entry, wrong entries tied with it counted half ahead of it
    (the order within a tie is list order, not the retriever's judgement)."""
    right = [a.score for a in answers if a.id in item.expected]
    if not right:
        return 0.0
    best = max(right)
    tolerance = 1e-6 * max(1.0, abs(best))
    ahead = sum(a.score > best + tolerance for a in answers)
    tied_wrong = sum(abs(a.score - best) <= tolerance and a.id not in item.expected for a in answers)
    return 1.0 / (1 + ahead + 0.5 * tied_wrong)


def rewordings(assistant: FaqAssistant, n: int, seed: int = 1) -> list[LabelledQuestion]:
    """``n`` questions made from the FAQ as the build's calibration makes them, with another seed: an
    indexed question with short words dropped; every entry worded like that question is right."""
    if n <= 0:
        return []
    index = assistant.index
    made = simulated_queries(index, random.Random(seed), limit=n)
    return [LabelledQuestion(text, frozenset(index.entries[p].id for p in right))
            for text, right, hidden in made if hidden is None]


def paired(first: list[int | None], second: list[int | None]) -> dict:
    """Questions the first gets right at rank 1 and the second wrong, the reverse, and the exact two-sided
    sign test's p-value on those discordant questions (ties of the two count for neither)."""
    wins = sum(a == 1 and b != 1 for a, b in zip(first, second, strict=True))
    losses = sum(a != 1 and b == 1 for a, b in zip(first, second, strict=True))
    p = binomtest(wins, wins + losses).pvalue if wins + losses else 1.0
    return {"wins": wins, "losses": losses, "p": round(float(p), 3)}


def measure(assistant: FaqAssistant, queries: list[LabelledQuestion], outside: list[str], mode: str,
            arm: str, kind: list[str]) -> dict:
    """Quality, handoff and speed of one arm (one pass, questions one at a time)."""
    ranks, latencies, handoff_in, handoff_out, fair, reciprocal = [], [], [], [], [], []
    start = time.perf_counter()
    for item in queries:
        t = time.perf_counter()
        result = assistant.retrieve(item.question, top_k=10, mode=mode)
        latencies.append(time.perf_counter() - t)
        ids = [a.id for a in result.answers]
        ranks.append(next((r for r, i in enumerate(ids, 1) if i in item.expected), None))
        handoff_in.append(result.handoff)
        fair.append(fair_top1(item, result.answers))
        reciprocal.append(fair_reciprocal_rank(item, result.answers))
    seconds = time.perf_counter() - start
    for question in outside:
        handoff_out.append(assistant.retrieve(question, mode=mode).handoff)
    right_in = [h != (r == 1) for h, r in zip(handoff_in, ranks, strict=True)]  # hand off exactly when wrong
    by_kind = {k: f"{sum(r == 1 for r, q in zip(ranks, kind, strict=True) if q == k)}/{kind.count(k)}"
               for k in ("novel", "exact", "tie", "other")}
    novel_fair = sum(f for f, q in zip(fair, kind, strict=True) if q == "novel")
    return {
        "arm": ARMS[arm][3], "mode": arm,
        "recall@1": round(statistics.mean(r == 1 for r in ranks), 4),
        "recall@1 ties fair": round(statistics.mean(fair), 4),
        "top-1 novel": by_kind["novel"], "top-1 novel ties fair": round(novel_fair, 1), "top-1 tie": by_kind["tie"],
        "recall@5": round(statistics.mean(r is not None and r <= 5 for r in ranks), 4),
        "mrr": round(statistics.mean(1 / r if r else 0.0 for r in ranks), 4),
        "mrr ties fair": round(statistics.mean(reciprocal), 4),
        "handoff_in_scope": round(statistics.mean(handoff_in), 4),
        "handoff_out_of_scope": round(statistics.mean(handoff_out), 4) if outside else None,
        "handoff_accuracy": round(statistics.mean(right_in + handoff_out), 4),
        "p50_ms": round(statistics.median(latencies) * 1000, 1),
        "min/max ms": f"{min(latencies) * 1000:.1f}/{max(latencies) * 1000:.1f}",
        "queries_per_s": round(len(queries) / seconds, 1),
        "_ranks": ranks,
    }


def measure_rewordings(assistant: FaqAssistant, items: list[LabelledQuestion]) -> list[dict]:
    """recall@1 and MRR of BM25, dense and fused on questions made from the FAQ, paired against BM25 and dense."""
    ranks: dict[str, list[int | None]] = {}
    for mode in ("bm25", "dense", "hybrid"):
        ranks[mode] = []
        for item in items:
            ids = [a.id for a in assistant.retrieve(item.question, top_k=10, mode=mode).answers]
            ranks[mode].append(next((r for r, i in enumerate(ids, 1) if i in item.expected), None))
    rows = []
    for mode, found in ranks.items():
        vs_bm25, vs_dense = paired(found, ranks["bm25"]), paired(found, ranks["dense"])
        rows.append({"mode": mode, "questions": len(items),
                     "recall@1": round(statistics.mean(r == 1 for r in found), 4),
                     "mrr": round(statistics.mean(1 / r if r else 0.0 for r in found), 4),
                     "vs BM25 +/- (p)": f"+{vs_bm25['wins']}/-{vs_bm25['losses']} ({vs_bm25['p']})",
                     "vs dense +/- (p)": f"+{vs_dense['wins']}/-{vs_dense['losses']} ({vs_dense['p']})"})
    return rows


def _tied_top(scores: np.ndarray) -> np.ndarray:
    """Positions whose score ties the best one (the tolerance ``fair_top1`` uses)."""
    best = float(scores.max())
    return np.flatnonzero(np.abs(scores - best) <= 1e-6 * max(1.0, abs(best)))


def weight_sweep(assistant: FaqAssistant, queries: list[LabelledQuestion], kind: list[str]) -> list[dict]:
    """recall@1 (plain and ties fair, all and novel questions) of score fusion at every dense weight the build
    tries, beside the MRR on the FAQ's own made-up questions that the build chose the weight by. The asked
    questions are only reported here, never used to choose: it shows whether the calibrated weight matters."""
    index = assistant.index
    dense = embed([q.question for q in queries], index.encoder) @ index.question_vectors.T
    lexical = [index.lexical.scores(q.question) for q in queries]
    positions = {e.id: i for i, e in enumerate(index.entries)}
    right = [{positions[i] for i in q.expected} for q in queries]
    fusion = index.meta.get("fusion", {})
    proxy = fusion.get("mrr_by_dense_weight", {})
    rows = []
    for weight in FUSION_WEIGHTS:
        top, fair = [], []
        for d, lx, expected in zip(dense, lexical, right, strict=True):
            scores = score_fusion(d, lx, weight)
            top.append(int(np.argsort(-scores, kind="stable")[0]) in expected)  # the order search returns
            tied = _tied_top(scores)
            fair.append(sum(int(p) in expected for p in tied) / len(tied))
        novel = [k == "novel" for k in kind]
        rows.append({
            "dense weight": weight, "chosen at build": "yes" if fusion.get("dense_weight") == weight else "",
            "MRR, FAQ's made-up questions (chose by)": proxy.get(str(weight)),
            "recall@1": round(statistics.mean(top), 4), "recall@1 ties fair": round(statistics.mean(fair), 4),
            "top-1 novel": f"{sum(t for t, n in zip(top, novel, strict=True) if n)}/{sum(novel)}",
            "top-1 novel ties fair": round(sum(f for f, n in zip(fair, novel, strict=True) if n), 1)})
    return rows


CARRIED_COLUMNS = ("arm", "recall@1", "recall@1 ties fair", "top-1 novel", "recall@5", "mrr", "mrr ties fair",
                   "handoff_accuracy", "p50_ms", "vs BM25 +/- (p)", "vs dense +/- (p)", "measured")


def carried_over(name: str, arms: list[str], generated: bool) -> dict:
    """The arms (and the ``--generate`` result) of the previous results file ``name`` that this run does not
    measure, each with the date it was measured: they stand until measured again, and say so."""
    path = RESULTS / f"{name}.json"
    if not path.exists():
        return {"results": [], "generation": None}
    previous = json.loads(path.read_text())
    earlier = previous.get("carried_over") or {"results": [], "generation": None}
    date = previous["machine"]["date"]
    rows = [{**row, "measured": date} for row in previous.get("results", []) if row["mode"] not in arms]
    rows += [row for row in earlier["results"] if row["mode"] not in arms and
             row["mode"] not in {r["mode"] for r in rows}]
    generation = None
    if not generated:
        generation = ({**previous["generation"], "measured": date} if previous.get("generation")
                      else earlier.get("generation"))
    return {"results": rows, "generation": generation}


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
        "min_max_s_with_generate": f"{min(latencies):.2f}/{max(latencies):.2f}",
        "examples": [{"question": q.question, "reply": g} for q, g in zip(sample[:3], generated[:3], strict=True)],
    }


def assistants(tmp: Path, indexed: pd.DataFrame, needed: set[str]) -> tuple[dict[str, FaqAssistant], dict]:
    """The indexes the selected arms need: base (with a reranker when asked), the same with reciprocal rank
    fusion, the tuned one, the tuned one with the base build's reranker, and one per extra encoder."""
    csv = tmp / "faq.csv"
    indexed.rename(columns={"Question": "question", "Answer": "answer"})[["id", "question", "answer"]].to_csv(
        csv, index=False)
    built = {"base": build_faq(csv, tmp / "base", rerank="rerank" in needed or "tuned+rerank" in needed)}
    base = FaqAssistant.load(tmp / "base")
    served = {"base": base}
    if "rrf" in needed:
        served["rrf"] = FaqAssistant(base.index.with_entries([], set()), tmp / "base")
        served["rrf"].index.meta["fusion"] = {"method": "rrf"}
    if "tuned" in needed or "tuned+rerank" in needed:
        built["tuned"] = build_faq(csv, tmp / "tuned", tune=True)
        served["tuned"] = FaqAssistant.load(tmp / "tuned")
    if "tuned+rerank" in needed:
        # the base build's cross-encoder over the tuned index's candidates (it scores any entry)
        served["tuned+rerank"] = FaqAssistant(served["tuned"].index.with_entries([], set()), tmp / "base")
        served["tuned+rerank"].index.meta["rerank"] = base.index.meta["rerank"]
    for key in sorted(k for k in needed if k.startswith("enc:")):
        name = key.split(":", 1)[1]
        built[key] = build_faq(csv, tmp / name, encoder=name)
        served[key] = FaqAssistant.load(tmp / name)
    return served, built


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--generate", type=int, default=20, help="questions answered with --generate (0: skip)")
    parser.add_argument("--out-of-scope", type=int, default=200, help="SQuAD questions asked for the handoff")
    parser.add_argument("--rewordings", type=int, default=400,
                        help="questions made from the FAQ (another seed than the build's) asked of BM25, dense "
                             "and fused (0: skip)")
    parser.add_argument("--encoders", default="", help="extra catalog encoders, comma-separated (an arm each)")
    parser.add_argument("--tune", action="store_true", help="add the --tune arms (trains the encoder)")
    parser.add_argument("--rerank", action="store_true", help="add the --rerank arm (trains a cross-encoder)")
    parser.add_argument("--name", default=None, help="results file name (default faq_bankfaqs)")
    args = parser.parse_args()
    encoder_arms([e.strip() for e in args.encoders.split(",") if e.strip()])
    arms = selected_arms(args)
    indexed, queries, unwinnable = split_bankfaqs()
    kind = kinds(indexed, queries)
    outside = out_of_scope(args.out_of_scope)
    with tempfile.TemporaryDirectory() as tmp:
        served, built = assistants(Path(tmp), indexed, {ARMS[arm][0] for arm in arms})
        for arm in ("dense", "hybrid"):  # the build picks the default encoder: name it
            ARMS[arm] = (*ARMS[arm][:3], ARMS[arm][3].format(encoder=built["base"].encoder["name"]))
        rows = []
        for arm in arms:
            which, mode, rerank, _ = ARMS[arm]
            assistant = served[which]
            assistant.rerank = rerank
            assistant.retrieve("warm up", mode=mode)
            rows.append(measure(assistant, queries, outside, mode, arm, kind))
            print(f"{arm}: recall@1 {rows[-1]['recall@1']}", flush=True)
        served["base"].rerank = False
        sweep = weight_sweep(served["base"], queries, kind)
        reworded = measure_rewordings(served["base"], rewordings(served["base"], args.rewordings))
        generation = None
        if args.generate:
            served["base"].rerank = False
            answers = dict(zip(indexed["id"], indexed["Answer"], strict=True))
            generation = measure_generation(served["base"], queries, answers, args.generate)
    by_arm = {row["mode"]: row for row in rows}
    for row in rows:
        row["Δ recall@1 vs BM25"] = round(row["recall@1"] - by_arm["bm25"]["recall@1"], 4)
        row["Δ recall@1 vs dense"] = round(row["recall@1"] - by_arm["dense"]["recall@1"], 4)
        row["p50 / BM25's"] = round(row["p50_ms"] / by_arm["bm25"]["p50_ms"], 2)
        for other, column in (("bm25", "vs BM25 +/- (p)"), ("dense", "vs dense +/- (p)")):
            test = paired(row["_ranks"], by_arm[other]["_ranks"])
            row[column] = f"+{test['wins']}/-{test['losses']} ({test['p']})"
        for other, column in (("bm25", "novel vs BM25 +/-"), ("dense", "novel vs dense +/-")):
            # on the newly worded questions only: where the retriever, not a tie, decides
            test = paired(*([r for r, k in zip(ranks, kind, strict=True) if k == "novel"]
                            for ranks in (row["_ranks"], by_arm[other]["_ranks"])))
            row[column] = f"+{test['wins']}/-{test['losses']}"
    for row in rows:
        row.pop("_ranks")
    base = built["base"]
    tune = built["tuned"].models.get("tune") if "tuned" in built else None
    rerank = base.models.get("rerank")
    name = args.name or ("faq_bankfaqs" if args.generate else "faq_bankfaqs_retrieval")
    carried = carried_over(name, arms, bool(generation))  # read before this run's results replace the file
    data = {
        "data": "BankFAQs.csv", "indexed": len(indexed), "asked": len(queries), "arms": arms,
        "asked_by_kind": {k: kind.count(k) for k in ("novel", "exact", "tie", "other")},
        "unwinnable_asked": unwinnable, "out_of_scope_asked": len(outside),
        "build_seconds": {name: round(b.seconds, 1) for name, b in built.items()},
        "encoders": {name: b.encoder for name, b in built.items()},
        "calibration": base.calibration, "fusion": {name: b.fusion for name, b in built.items()},
        "models": {"tune": tune, "rerank": rerank},
        "load_average_before_after": [LOAD_BEFORE, os.getloadavg()],
        "results": rows, "weight_sweep": sweep, "rewordings": reworded, "generation": generation,
        "carried_over": carried,
    }
    table = [{k: v for k, v in row.items() if k != "mode"} for row in rows]
    md = write_results(name, data, table)
    trained = []
    if rerank:
        trained.append(f"base includes the reranker's training, {rerank['seconds']} s")
    if tune:
        trained.append(f"tuned includes tuning, {tune['seconds']} s, {tune['steps']} steps, loss {tune['loss']}")
    weights = ", ".join(f"{name}: {b.fusion.get('dense_weight')}" for name, b in built.items())
    notes = [
        "",
        f"{len(indexed)} entries indexed, {len(queries)} questions asked: {data['asked_by_kind']} (novel: worded "
        "unlike any indexed question; tie: worded exactly like its own entry and other entries, whose answers "
        f"differ by a few words — a coin toss for any retriever). {len(outside)} SQuAD questions out of scope. "
        "'ties fair': a tie at the top counts as a fair coin (recall@1) or puts the tied wrong entries half "
        f"ahead (MRR). Builds: {data['build_seconds']} s{' (' + '; '.join(trained) + ')' if trained else ''}. "
        f"Fusion dense weight calibrated on the FAQ alone ({weights}). Handoff threshold "
        f"{base.calibration['threshold']}. Latency: `retrieve` one question at a time. Load average before / "
        f"after: {[round(x, 2) for x in LOAD_BEFORE]} / {[round(x, 2) for x in os.getloadavg()]} (2 CPUs, shared). "
        "'vs BM25 +a/-b (p)': questions this arm gets right at rank 1 and BM25 wrong (a), the reverse (b), exact "
        "two-sided sign test on a + b.",
    ]
    notes += ["", f"Score fusion at every dense weight the build tries, the base index ({base.encoder['name']}): "
              "the build chose by MRR on questions made from the FAQ (first column); the asked questions' "
              "columns are reported only, never used to choose:", "",
              "| " + " | ".join(sweep[0]) + " |", "|" + "---|" * len(sweep[0])]
    notes += ["| " + " | ".join(str(v) for v in row.values()) + " |" for row in sweep]
    if carried["results"]:
        notes += ["", "Arms not measured in this run (each on request): their numbers from the run "
                  "measured on the date given stand (same data, split and code path; 'vs' columns against that "
                  "run's BM25 and dense, which are deterministic):", "",
                  "| " + " | ".join(CARRIED_COLUMNS) + " |", "|" + "---|" * len(CARRIED_COLUMNS)]
        notes += ["| " + " | ".join(str(row.get(c, "")) for c in CARRIED_COLUMNS) + " |" for row in carried["results"]]
    if reworded:
        notes += ["", f"Questions made from the FAQ (short words dropped from {reworded[0]['questions']} indexed "
                  "questions, another seed than the build's calibration), the base index:", "",
                  "| " + " | ".join(reworded[0]) + " |", "|" + "---|" * len(reworded[0])]
        notes += ["| " + " | ".join(str(v) for v in row.values()) + " |" for row in reworded]
    if generation:
        notes.append(
            f"\n`--generate` on {generation['questions']} questions: ROUGE-L {generation['rouge_l_generated']} "
            f"(verbatim best answer {generation['rouge_l_verbatim']}), cites a right id "
            f"{generation['cites_right_id']:.0%}, p50 {generation['p50_s_with_generate']} s per answer "
            f"(min/max {generation['min_max_s_with_generate']}).")
    elif carried["generation"]:
        earlier = carried["generation"]
        notes.append(
            f"\n`--generate` not run this time; measured {earlier['measured']} on {earlier['questions']} questions: "
            f"ROUGE-L {earlier['rouge_l_generated']} (verbatim best answer {earlier['rouge_l_verbatim']}), "
            f"cites a right id {earlier['cites_right_id']:.0%}, p50 {earlier['p50_s_with_generate']} s per answer "
            f"(min/max {earlier['min_max_s_with_generate']}).")
    with open(md, "a", encoding="utf-8") as out:
        out.write("\n".join(notes) + "\n")
    print(md.read_text())


if __name__ == "__main__":
    main()
