"""The monitor's other built-in rules (positive_spike, volume_spike) on replayed real tweets, and ``--ner``
(spaCy organisations) through the real CLI in a new process."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from test_apps_monitor_support import DATA, label_pool, replay_events, shared_nb_classifier, split_tweets, write_jsonl

from tamellm.apps.monitor import EntityMatcher, JsonlSink, Monitor, SentimentModel, Settings, load_rules

pytestmark = pytest.mark.skipif(not DATA.exists(), reason="needs ../shared/data")

WATCH = {"ACME": ["Acme Corp"], "GLOBEX": ["Globex", "$GLOBEX"], "INITECH": ["Initech"]}
ALIASES = {"ACME": "Acme Corp", "GLOBEX": "$GLOBEX", "INITECH": "Initech"}
LABEL_MAP = "bearish=negative,bullish=positive"
EPISODE = ("2026-01-05T08:00:00Z", "2026-01-05T10:00:00Z")  # hours 8-10 of the replay


@pytest.fixture(autouse=True)
def one_thread(quiet_one_thread):
    """The classifier is tiny: one torch thread is much faster than two on a busy machine."""


@pytest.fixture(scope="module")
def nb_classifier(tmp_path_factory) -> Path:
    return shared_nb_classifier(tmp_path_factory)


@pytest.fixture(scope="module")
def pool() -> dict[str, list[str]]:
    return label_pool(split_tweets()[1])


def _alerts(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


@pytest.mark.parametrize(("rule", "episode"), [
    ("positive_spike", {"episode_negative": 0.05, "episode_positive": 0.8}),
    ("volume_spike", {"episode_negative": 0.15, "episode_positive": 0.25, "episode_rate": 6.0}),
])
def test_rule_fires_once_inside_its_injected_episode_and_nowhere_else(nb_classifier, pool, tmp_path, rule,
                                                                      episode):
    rows = replay_events(pool, ALIASES, seed=11, hours=12, per_hour=30, episode_entity="ACME", episode_start_h=8,
                         episode_hours=2, **episode)
    rules = load_rules([rule, "negative_spike"])  # the negative rule must stay silent: no negative episode
    monitor = Monitor(SentimentModel(str(nb_classifier), LABEL_MAP), EntityMatcher(WATCH), tmp_path / "m.db",
                      rules=rules, sinks={"jsonl": JsonlSink(tmp_path / "alerts.jsonl")},
                      settings=Settings.parse(window="1h", lateness="5m"), dead_letter=tmp_path / "dead.jsonl")
    monitor.run_file(write_jsonl(tmp_path / "events.jsonl", rows))
    alerts = _alerts(tmp_path / "alerts.jsonl")
    fired = [a for a in alerts if a["kind"] == rule]
    assert [a["entity"] for a in fired] == ["ACME"], alerts
    assert EPISODE[0] <= fired[0]["window_start"] < EPISODE[1]
    numbers = fired[0]["numbers"]
    if rule == "volume_spike":  # the numbers that fired it travel with the alert
        assert fired[0]["count_ratio"] >= 4 and fired[0]["count"] >= 20
    else:
        assert fired[0]["positive_share_z"] >= 3
        assert numbers["positive_share"] >= numbers["baseline_positive_share"] + 0.15
    others = [a for a in alerts if a["kind"] in (rule, "negative_spike") and a is not fired[0]]
    assert others == []  # once per episode, nothing for the other entities, no negative alert
    recovered = [a for a in alerts if a["kind"] == f"{rule}_recovered"]
    assert [a["entity"] for a in recovered] == ["ACME"] and recovered[0]["window_start"] >= EPISODE[1]


def test_ner_flag_matches_organisations_the_aliases_miss_in_a_new_process(nb_classifier, tmp_path):
    # "Globex Corp." and "Initech Inc" are not the aliases as written; spaCy tags them as organisations.
    texts = ["Globex Corp. shares fell 8% after the earnings call.",
             "Analysts cut their target for Initech Inc after weak guidance",
             "Globex Corporation beats estimates and the stock jumps",
             "The weather was fine in Chicago today"]
    rows = [{"id": str(i), "timestamp": f"2026-01-05T09:0{i}:00Z", "text": t} for i, t in enumerate(texts)]
    events = write_jsonl(tmp_path / "events.jsonl", rows)
    (tmp_path / "watch.yaml").write_text("GBX: [Globex Corporation]\nITK: [Initech Inc.]\n")

    def run(*extra: str) -> dict:
        state = tmp_path / f"state{len(extra)}.db"
        result = subprocess.run(
            [sys.executable, "-m", "tamellm.cli.main", "monitor", "run", "--model", str(nb_classifier),
             "--input", str(events), "--watchlist", str(tmp_path / "watch.yaml"), "--state", str(state),
             "--label-map", LABEL_MAP, "--json", *extra], capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stderr
        import sqlite3

        with sqlite3.connect(state) as db:
            mentions = db.execute("SELECT entity, COUNT(*) FROM mentions GROUP BY entity").fetchall()
        return dict(mentions)

    assert run() == {"GBX": 1}  # only "Globex Corporation" is written as an alias
    assert run("--ner") == {"GBX": 2, "ITK": 1}
