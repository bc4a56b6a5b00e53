"""The recommender on MovieLens ml-latest-small: every arm in one run, cold items, build time, speed.

Split: per user, the last 5 ratings (by timestamp) are held out; every arm is fitted on the
rest. Arms: popularity, item-kNN (implicit cosine), ALS (implicit), content only (minilm-l6
over title + genres), tamellm's fused default, and the language-model ranker over the fused
candidates (``tamellm_lm`` at the beta its own validation chose, ``tamellm_lm_beta1``), the
ranker scored on a seeded sample of users beside the fused order on the same users.
Cold start: 10 % of the rated movies lose every training rating (only their text stays);
their held-out ratings are ranked among the cold movies alone.

Items are read from movies.csv only: tags.csv was written by the same users, partly after
the split, so its text would leak who watched what.

Speed: the default build (item vectors computed in a fresh cache, then every source and the
fusion weights), and single-request latency of ``Recommender.recommend`` for known users
(with and without reasons) and for a sentence.

Run: .venv/bin/python bench/recommend_movielens.py [--ranker-budget 120] [--lm-users 200]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
from common import DATA, write_results

ML = DATA / "movielens_ml_latest_small"
SENTENCES = ["space operas and 90s thrillers", "animated films for children", "romantic comedies set in Paris",
             "dark crime dramas with gangsters", "horror films with ghosts", "documentaries about music"]


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def latencies(fn, calls: list) -> dict:
    """Sequential calls: recommendations per second and p50 / p95 latency in ms."""
    times = []
    for args in calls:
        start = time.perf_counter()
        fn(*args)
        times.append(time.perf_counter() - start)
    ms = sorted(1000 * t for t in times)
    return {"calls": len(times), "per_second": round(len(times) / sum(times), 2),
            "p50_ms": round(statistics.median(ms), 2), "p95_ms": round(ms[int(0.95 * (len(ms) - 1))], 2),
            "min_ms": round(ms[0], 2), "max_ms": round(ms[-1], 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--ranker-budget", type=float, default=120.0, help="seconds of ranker training")
    parser.add_argument("--lm-users", type=int, default=200, help="users the ranker arms are scored on")
    parser.add_argument("--speed-users", type=int, default=200)
    args = parser.parse_args()
    os.environ["TAMELLM_HOME"] = tempfile.mkdtemp(prefix="tamellm-bench-home-")  # a fresh vector cache
    from tamellm.apps.recommend import Recommender, build_recommender, evaluate

    ratings, movies = ML / "ratings.csv", ML / "movies.csv"
    out: dict = {"load_average_start": load_average()}
    work = Path(tempfile.mkdtemp(prefix="tamellm-rec-bench-"))
    start = time.perf_counter()
    built = build_recommender(ratings, movies, work / "rec")
    out["build"] = {"seconds": round(time.perf_counter() - start, 1), "weights": built.weights,
                    "load_average": load_average(),
                    "note": "includes embedding every movie text (fresh cache) and fitting every source twice "
                            "(once to choose the fusion weights)"}
    print("build", out["build"], flush=True)

    start = time.perf_counter()
    result = evaluate(ratings, movies, holdout=5, cold_fraction=0.1, seed=0, ranker=True,
                      ranker_budget=args.ranker_budget, lm_users=args.lm_users)
    result.pop("input", None)
    out["eval"] = result
    out["eval_seconds"] = round(time.perf_counter() - start, 1)
    out["eval_load_average"] = load_average()
    print("eval done", out["eval_seconds"], flush=True)

    rec = Recommender.load(work / "rec")
    rng = np.random.default_rng(0)
    users = [str(u) for u in rng.choice(rec.users, size=min(args.speed_users, len(rec.users)), replace=False)]
    rec.warm_up()
    rec.recommend(user=users[0], k=10)
    out["speed"] = {
        "user_no_reasons": latencies(lambda u: rec.recommend(user=u, k=10, reasons=False), [(u,) for u in users]),
        "user_with_reasons": latencies(lambda u: rec.recommend(user=u, k=10), [(u,) for u in users[:50]]),
        "text_with_reasons": latencies(lambda t: rec.recommend(text=t, k=10), [(t,) for t in SENTENCES * 3]),
        "load_average": load_average(),
    }
    out["examples"] = {t: [f"{r.title}" for r in rec.recommend(text=t, k=5, reasons=False).items]
                       for t in SENTENCES[:3]}
    table = []
    for split, arms in (("all items", result["results"]), ("cold items (text only)", result["cold_start"])):
        for arm, metrics in arms.items():
            if isinstance(metrics, dict):
                table.append({"split": split, "arm": arm, "recall@10": metrics["recall@10"],
                              "ndcg@10": metrics["ndcg@10"], "users": metrics["users"]})
    for name, speed in out["speed"].items():
        if isinstance(speed, dict):
            table.append({"split": "speed", "arm": name, "recall@10": f"{speed['per_second']} rec/s",
                          "ndcg@10": f"p50 {speed['p50_ms']} ms", "users": speed["calls"]})
    path = write_results("recommend_movielens", out, table)
    print(path.read_text() if path.suffix == ".md" else path.with_suffix(".md").read_text())


if __name__ == "__main__":
    main()
