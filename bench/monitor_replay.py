"""Sentiment monitor replay: alert precision / recall, detection delay and events/s over many seeds.

Real financial tweets (../shared/data/twitter_financial_news_sentiment, gold labels) get
synthetic times and entities; one random entity per seed has a negative episode (every
fourth seed has none: a control for false alarms). The classifier is a naive-Bayes
classifier folder built from two thirds of the tweets (the replays draw from the other
third) and loaded through ``tamellm.load``, or any classifier folder given with --model.
Arms compare rule/window settings side by side on the same streams.

An alert is a true positive when it names the episode's entity and its window overlaps
the episode; recall counts episodes with at least one such alert; delay is the
event time from the episode's start until the alert could be raised (window end +
lateness). events/s is end to end: read, classify, match, store, close windows, deliver.

Run: .venv/bin/python bench/monitor_replay.py [--seeds 20] [--model DIR --label-map ...]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from common import ROOT, write_results

sys.path.insert(0, str(ROOT / "tests"))
from test_apps_monitor_support import (  # noqa: E402 (the shared replay helpers live beside the tests)
    build_nb_classifier,
    label_pool,
    replay_events,
    split_tweets,
    write_jsonl,
)

ENTITIES = {"ACME": "Acme Corp", "GLOBEX": "$GLOBEX", "INITECH": "Initech", "UMBRELLA": "Umbrella Group"}
WATCH = {name: [alias] for name, alias in ENTITIES.items()}
START = datetime(2026, 1, 5, tzinfo=UTC)
ARMS = {
    "1h window, default rule (z >= 3 and share - baseline >= 0.15)": {"window": "1h", "rules": None},
    "1h window, z >= 3 and share >= 0.35 (an absolute floor)": {
        "window": "1h", "rules": [{"use": "negative_spike", "when": [
            "count >= 5", "negative_share >= 0.35", "negative_share_z >= 3", "baseline_windows >= 4"]}]},
    "30m window, default rule": {"window": "30m", "rules": None},
    "1h window, absolute rule only (share >= 0.4, count >= 10)": {
        "window": "1h", "rules": [{"name": "negative_spike", "when": ["count >= 10", "negative_share >= 0.4"]}]},
}


def _summary(values: list[float]) -> dict:
    if not values:
        return {"min": None, "median": None, "max": None}
    return {"min": round(min(values), 1), "median": round(statistics.median(values), 1), "max": round(max(values), 1)}


def run_arm(model: str, label_map: str | None, arm: dict, streams: list[dict], workdir: Path) -> dict:
    from tamellm.apps.monitor import EntityMatcher, JsonlSink, Monitor, SentimentModel, Settings, load_rules

    classifier = SentimentModel(model, label_map)
    tp = fp = detected = duplicated = 0
    episodes, delays, rates = 0, [], []
    false_alarm_streams = 0
    log_false: list[dict] = []
    for i, stream in enumerate(streams):
        folder = workdir / f"{id(arm)}-{i}"
        folder.mkdir()
        monitor = Monitor(classifier, EntityMatcher(WATCH), folder / "state.db", rules=load_rules(arm["rules"]),
                          sinks={"jsonl": JsonlSink(folder / "alerts.jsonl")},
                          settings=Settings.parse(window=arm["window"], lateness="5m"))
        summary = monitor.run_file(stream["path"])
        monitor.close()
        rates.append(summary.events_per_s)
        alerts = [json.loads(line) for line in (folder / "alerts.jsonl").read_text().splitlines()]
        fired = [a for a in alerts if a["kind"] == "negative_spike"]
        episode = stream["episode"]
        hits = []
        for alert in fired:
            start, end = (datetime.fromisoformat(alert[k].replace("Z", "+00:00"))
                          for k in ("window_start", "window_end"))
            overlaps = (episode and alert["entity"] == episode["entity"]
                        and start < episode["end"] and end > episode["start"])
            if overlaps:
                hits.append(alert)
            else:
                fp += 1
                log_false.append({"entity": alert["entity"], "window_start": alert["window_start"],
                                  "episode": episode and f"{episode['entity']} {episode['start']:%H:%M}",
                                  **{k: alert[k] for k in alert["fired_by"]}})
        tp += len(hits)
        if episode:
            episodes += 1
            if hits:
                detected += 1
                duplicated += len(hits) > 1
                end = datetime.fromisoformat(hits[0]["window_end"].replace("Z", "+00:00"))
                delays.append((end + timedelta(minutes=5) - episode["start"]).total_seconds() / 60)
        false_alarm_streams += any(a["entity"] != (episode or {}).get("entity") for a in fired)
    return {
        "precision": round(tp / (tp + fp), 3) if tp + fp else None,
        "recall": round(detected / episodes, 3) if episodes else None,
        "episodes": episodes, "detected": detected, "true_alerts": tp, "false_alerts": fp,
        "episodes_with_two_alerts": duplicated, "streams_with_a_false_alarm": false_alarm_streams,
        "delay_min": _summary(delays), "events_per_s": _summary(rates), "false_alerts_seen": log_false[:20],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--hours", type=float, default=24)
    parser.add_argument("--per-hour", type=float, default=30, help="texts per entity per hour")
    parser.add_argument("--model", help="a classifier folder (default: the naive-Bayes folder built here)")
    parser.add_argument("--label-map", default="bearish=negative,bullish=positive")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (1 is fastest for a tiny model)")
    parser.add_argument("--arms", type=int, default=len(ARMS), help="run only the first N arms")
    parser.add_argument("--name", default="monitor_replay")
    args = parser.parse_args()

    import torch

    torch.set_num_threads(args.threads)
    train, held_out = split_tweets()
    pool = label_pool(held_out)
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        model = args.model
        if model is None:
            started = time.perf_counter()
            model = str(build_nb_classifier(workdir / "nb", [t for t, _ in train], [g for _, g in train]))
            build_s = time.perf_counter() - started
        else:
            build_s = None
        streams = []
        for seed in range(args.seeds):
            rng = random.Random(1000 + seed)
            entity = None if seed % 4 == 3 else rng.choice(sorted(ENTITIES))
            start_h = rng.uniform(8, args.hours - 4)
            rows = replay_events(pool, ENTITIES, seed=seed, hours=args.hours, per_hour=args.per_hour,
                                 episode_entity=entity, episode_start_h=start_h, episode_hours=2)
            path = write_jsonl(workdir / f"events-{seed}.jsonl", rows)
            episode = entity and {"entity": entity, "start": START + timedelta(hours=start_h),
                                  "end": START + timedelta(hours=start_h + 2)}
            streams.append({"path": path, "episode": episode, "events": len(rows)})
        results, table = {}, []
        for name, arm in list(ARMS.items())[:args.arms]:
            result = run_arm(model, args.label_map, arm, streams, workdir)
            results[name] = result
            table.append({"arm": name, "precision": result["precision"], "recall": result["recall"],
                          "false alerts": result["false_alerts"],
                          "episodes alerted twice": result["episodes_with_two_alerts"],
                          "delay min (min/median/max)": "/".join(str(v) for v in result["delay_min"].values()),
                          "events/s (min/median/max)": "/".join(str(v) for v in result["events_per_s"].values())})
    data = {"seeds": args.seeds, "hours": args.hours, "per_hour_per_entity": args.per_hour,
            "entities": len(ENTITIES), "events_per_stream": _summary([s["events"] for s in streams]),
            "episode": "2 h, 80% bearish texts (background 15% bearish, 25% bullish); every 4th seed none",
            "model": args.model or "naive-Bayes classifier folder built from 2/3 of sent_train.csv",
            "model_build_s": round(build_s, 1) if build_s else None, "threads": args.threads,
            "lateness": "5m, 5% of events arrive 30-240 s late", "arms": results}
    md = write_results(args.name, data, table)
    print(md.read_text())


if __name__ == "__main__":
    main()
