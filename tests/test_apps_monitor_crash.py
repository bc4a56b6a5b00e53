"""``kill -9`` in the middle of ``tamellm monitor run``, then a restart: every event counted once, no
alert lost or sent twice (compared with an uninterrupted run of the same stream)."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_apps_monitor_support import (
    DATA,
    label_pool,
    replay_events,
    shared_nb_classifier,
    split_tweets,
    write_jsonl,
)

from tamellm.apps.monitor import open_monitor

pytestmark = pytest.mark.skipif(not DATA.exists(), reason="needs ../shared/data")
WATCH = "ACME: [Acme Corp]\nGLOBEX: [Globex, $GLOBEX]\nINITECH: [Initech]\n"
ALIASES = {"ACME": "Acme Corp", "GLOBEX": "$GLOBEX", "INITECH": "Initech"}


def _events_in(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as con:
            return con.execute("SELECT COUNT(*) FROM events").fetchone()[0]
    except sqlite3.OperationalError:  # schema not there yet
        return 0


def test_kill_9_mid_stream_then_restart_counts_every_event_once(tmp_path, tmp_path_factory, quiet_one_thread):
    _, held_out = split_tweets()
    model = shared_nb_classifier(tmp_path_factory)
    rows = replay_events(label_pool(held_out), ALIASES, seed=6, hours=12, per_hour=30, episode_entity="ACME",
                         episode_start_h=8)
    events = write_jsonl(tmp_path / "events.jsonl", rows)
    watch = tmp_path / "watch.yaml"
    watch.write_text(WATCH)
    options = {"label_map": "bearish=negative,bullish=positive", "window": "1h", "lateness": "5m"}

    reference = open_monitor(model, watch, tmp_path / "ref.db", alerts=tmp_path / "ref.jsonl", **options)
    reference.run_file(events)
    expected = [json.loads(line)["id"] for line in (tmp_path / "ref.jsonl").read_text().splitlines()]
    assert expected

    state, alerts = tmp_path / "state.db", tmp_path / "alerts.jsonl"
    command = [sys.executable, "-m", "tamellm.cli.main", "monitor", "run", "--model", str(model),
               "--input", str(events), "--watchlist", str(watch), "--state", str(state), "--alerts", str(alerts),
               "--label-map", options["label_map"], "--window", "1h", "--lateness", "5m", "--batch-size", "8",
               "--quiet"]
    env = os.environ | {"OMP_NUM_THREADS": "1"}  # a tiny model: one thread is far faster on a busy machine
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    deadline = time.monotonic() + 120
    while _events_in(state) < len(rows) // 3 and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    killed_at = _events_in(state)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL, process.stderr.read().decode()
    assert 0 < killed_at < len(rows)  # killed in the middle of the stream

    finished = subprocess.run(command + ["--json"], capture_output=True, text=True, timeout=180, env=env)
    assert finished.returncode == 0, finished.stderr
    summary = json.loads(finished.stdout)
    assert summary["duplicates"] == 0  # the offset was stored with the events: nothing read twice

    with sqlite3.connect(state) as con:
        assert con.execute("SELECT COUNT(*) FROM events").fetchone()[0] == len({r["id"] for r in rows})
        mentions = con.execute("SELECT COUNT(*) FROM mentions").fetchone()[0]
        assert con.execute("SELECT SUM(count) FROM windows").fetchone()[0] == mentions
        statuses = {s for (s,) in con.execute("SELECT status FROM deliveries")}
    with sqlite3.connect(tmp_path / "ref.db") as con:
        assert con.execute("SELECT COUNT(*) FROM mentions").fetchone()[0] == mentions
    written = [json.loads(line)["id"] for line in alerts.read_text().splitlines()]
    assert written == expected and statuses == {"delivered"}
