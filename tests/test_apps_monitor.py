"""The sentiment monitor end to end on real financial tweets, through a real classifier folder.

The classifier is a naive-Bayes-in-BERT folder built from the dataset's gold labels
(``test_apps_monitor_support``), loaded through ``tamellm.load`` like any fine-tuned model.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
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

from tamellm.apps.monitor import (
    EntityMatcher,
    JsonlSink,
    Monitor,
    SentimentModel,
    Settings,
    WebhookSink,
    load_rules,
    load_watchlist,
    open_monitor,
    parse_label_map,
    read_file,
)
from tamellm.apps.monitor.sinks import SIGNATURE_HEADER
from tamellm.errors import ConfigError, DataError

pytestmark = pytest.mark.skipif(not DATA.exists(), reason="needs ../shared/data")

WATCH = {"ACME": ["Acme Corp"], "GLOBEX": ["Globex", "$GLOBEX"], "INITECH": ["Initech"]}
ALIASES = {"ACME": "Acme Corp", "GLOBEX": "$GLOBEX", "INITECH": "Initech"}
LABEL_MAP = "bearish=negative,bullish=positive"


@pytest.fixture(autouse=True)
def one_thread(quiet_one_thread):
    """The classifier is tiny: one torch thread is ~30x faster than two on a busy machine."""


@pytest.fixture(scope="module")
def tweets():
    return split_tweets()


@pytest.fixture(scope="module")
def nb_classifier(tmp_path_factory) -> Path:
    return shared_nb_classifier(tmp_path_factory)


@pytest.fixture(scope="module")
def pool(tweets) -> dict[str, list[str]]:
    return label_pool(tweets[1])


def _events(pool, seed=3, **extra):
    options = {"hours": 12, "per_hour": 30, "episode_entity": "ACME", "episode_start_h": 8, "episode_hours": 2}
    return replay_events(pool, ALIASES, seed=seed, **(options | extra))


def _monitor(model, tmp_path, name="m", sinks=None, **settings) -> Monitor:
    return Monitor(SentimentModel(str(model), LABEL_MAP), EntityMatcher(WATCH), tmp_path / f"{name}.db",
                   sinks=sinks if sinks is not None else {"jsonl": JsonlSink(tmp_path / f"{name}.alerts.jsonl")},
                   settings=Settings.parse(window="1h", lateness="5m", **settings),
                   dead_letter=tmp_path / f"{name}.dead.jsonl")


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_negative_episode_fires_once_inside_it_and_nowhere_else(nb_classifier, pool, tmp_path):
    events = write_jsonl(tmp_path / "events.jsonl", _events(pool))
    monitor = _monitor(nb_classifier, tmp_path)
    summary = monitor.run_file(events)
    alerts = _lines(tmp_path / "m.alerts.jsonl")
    fired = [a for a in alerts if a["kind"] == "negative_spike"]
    assert [a["entity"] for a in fired] == ["ACME"]
    assert "2026-01-05T08:00:00Z" <= fired[0]["window_start"] < "2026-01-05T10:00:00Z"  # inside the episode
    for key in ("entity", "kind", "window_start", "window_end", "negative_share", "negative_share_z", "count"):
        assert key in fired[0]
    assert fired[0]["examples"] and all("Acme Corp" in e["text"] for e in fired[0]["examples"])
    recovered = [a for a in alerts if a["kind"] == "negative_spike_recovered"]
    assert [a["entity"] for a in recovered] == ["ACME"] and recovered[0]["window_start"] >= "2026-01-05T10:00:00Z"
    assert summary.new == summary.read and summary.alerts == len(alerts)
    # Read again: the offset says everything is done; nothing changes.
    again = _monitor(nb_classifier, tmp_path).run_file(events)
    assert (again.read, again.alerts) == (0, 0)
    assert _lines(tmp_path / "m.alerts.jsonl") == alerts


def test_duplicate_ids_and_late_events_are_counted_once(nb_classifier, pool, tmp_path):
    rows = _events(pool, seed=4)
    rows += rows[:50]  # replayed by a producer: same ids
    late = dict(rows[10], id="way-late", text="Acme Corp shares plunge")  # hours older than the stream's end
    rows.append(late)
    monitor = _monitor(nb_classifier, tmp_path)
    summary = monitor.run_file(write_jsonl(tmp_path / "events.jsonl", rows))
    assert summary.duplicates == 50 and summary.late == 1
    counts = monitor.store.counts()
    assert counts["events"] == len(rows) - 50 and counts["late_events"] == 1
    counted = monitor.store.db.execute("SELECT SUM(count) FROM windows").fetchone()[0]
    assert counted == counts["mentions"]  # every mention in exactly one window; the late one in none


def test_webhook_that_fails_twice_gets_each_alert_once_signed(nb_classifier, pool, tmp_path):
    received, calls = [], []

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (http.server's name)
            body = self.rfile.read(int(self.headers["Content-Length"]))
            calls.append(body)
            if len(calls) <= 2:
                self.send_response(503)
                self.end_headers()
                return
            received.append((body, dict(self.headers)))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/hook"
        sink = WebhookSink(url, secret="s3cret", timeout=2, retries=3, backoff=0.01)
        monitor = _monitor(nb_classifier, tmp_path, sinks={"webhook": sink})
        summary = monitor.run_file(write_jsonl(tmp_path / "events.jsonl", _events(pool)))
    finally:
        server.shutdown()
    ids = [json.loads(body)["id"] for body, _ in received]
    assert len(ids) == len(set(ids)) == summary.alerts >= 1
    assert len(calls) == len(received) + 2
    assert "ACME:negative_spike:" in ids[0]
    for body, headers in received:
        expected = "sha256=" + hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
        assert headers[SIGNATURE_HEADER] == expected and headers["Idempotency-Key"] == json.loads(body)["id"]
    assert not (tmp_path / "m.dead.jsonl").exists()


def test_webhook_that_is_down_sends_alerts_to_the_dead_letter_file(nb_classifier, pool, tmp_path):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sink = WebhookSink(f"http://127.0.0.1:{port}/hook", timeout=0.5, retries=2, backoff=0.01)
    monitor = _monitor(nb_classifier, tmp_path, sinks={"webhook": sink})
    summary = monitor.run_file(write_jsonl(tmp_path / "events.jsonl", _events(pool)))
    dead = _lines(tmp_path / "m.dead.jsonl")
    assert summary.alerts >= 1 and len(dead) == summary.alerts == summary.dead_letters
    assert dead[0]["sink"] == "webhook" and "3 attempts" in dead[0]["error"] and dead[0]["alert"]["entity"] == "ACME"
    statuses = monitor.store.db.execute("SELECT DISTINCT status FROM deliveries").fetchall()
    assert [s[0] for s in statuses] == ["dead"]


def test_jsonl_sink_is_exactly_once_across_a_crash_after_the_append(nb_classifier, pool, tmp_path):
    events = write_jsonl(tmp_path / "events.jsonl", _events(pool))
    monitor = _monitor(nb_classifier, tmp_path)
    for batch in read_file(events, batch_size=256):  # stored, not delivered: as if killed before delivery
        monitor.process(batch.events, str(events.resolve()), batch.offset)
    monitor.flush()
    pending = monitor.store.pending("jsonl")
    assert pending
    alerts_file = tmp_path / "m.alerts.jsonl"
    # The crash came after the first alert's append and in the middle of the second's.
    alerts_file.write_text(json.dumps(pending[0]) + "\n" + json.dumps(pending[-1])[:40])
    restarted = _monitor(nb_classifier, tmp_path)
    restarted.run_file(events)
    written = _lines(alerts_file)
    assert [a["id"] for a in written] == [a["id"] for a in pending]
    assert restarted.store.pending("jsonl") == []


def test_open_monitor_report_and_cli(nb_classifier, pool, tmp_path):
    from typer.testing import CliRunner

    from tamellm.cli.main import app

    events = write_jsonl(tmp_path / "events.jsonl", _events(pool, seed=5))
    (tmp_path / "watch.yaml").write_text("ACME: [Acme Corp]\nGLOBEX: [Globex, $GLOBEX]\nINITECH: [Initech]\n")
    args = ["monitor", "run", "--model", str(nb_classifier), "--input", str(events), "--watchlist",
            str(tmp_path / "watch.yaml"), "--state", str(tmp_path / "s.db"), "--alerts", str(tmp_path / "a.jsonl"),
            "--label-map", LABEL_MAP, "--window", "1h", "--json"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["alerts"] == len(_lines(tmp_path / "a.jsonl")) >= 1
    result = CliRunner().invoke(app, ["monitor", "report", "--state", str(tmp_path / "s.db"), "--json"])
    assert result.exit_code == 0, result.output
    page = Path(json.loads(result.stdout)["report"]).read_text()
    assert "ACME" in page and "negative_spike" in page and "Plotly" in page
    assert "<script src=" not in page  # plotly's JS is inline: the page works offline


def test_bad_input_names_the_line_or_is_skipped_with_a_count(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"id": "1", "timestamp": "2026-01-05T09:00:00Z", "text": "ok"}\n'
                    '{"id": "2", "text": "no time"}\n'
                    '{"id": "3", "timestamp": "yesterday-ish", "text": "x"}\n'
                    '{"id": "4", "timestamp": "2026-01-05T09:00:00Z"}\n'
                    "not json\n")
    with pytest.raises(DataError, match=r"bad.jsonl line 2: missing 'timestamp'"):
        list(read_file(path))
    batches = list(read_file(path, on_bad="skip"))
    assert [e.id for b in batches for e in b.events] == ["1"]
    skipped = [s for b in batches for s in b.skipped]
    assert len(skipped) == 4 and "line 3: unparseable timestamp 'yesterday-ish'" in skipped[1]
    assert "line 4: missing or empty 'text'" in skipped[2] and "line 5: not valid JSON" in skipped[3]


def test_rules_watchlist_and_label_map_errors_are_clear(tmp_path, nb_classifier):
    with pytest.raises(ConfigError, match="unknown field 'negative_shar'.*Did you mean 'negative_share'"):
        load_rules([{"name": "r", "when": ["negative_shar >= 0.5"]}])
    with pytest.raises(ConfigError, match="cannot read condition"):
        load_rules([{"name": "r", "when": ["negative_share is high"]}])
    with pytest.raises(ConfigError, match="unknown key 'cooldwn'"):
        load_rules([{"use": "negative_spike", "cooldwn": 2}])
    rules = load_rules([{"use": "volume_spike", "cooldown": 8}, {"name": "abs", "when": "negative_share > 0.6"}])
    assert [r.name for r in rules] == ["volume_spike", "abs"] and rules[0].cooldown == 8
    with pytest.raises(ConfigError, match="'bearish' is not negative / neutral / positive"):
        SentimentModel(str(nb_classifier))
    with pytest.raises(ConfigError, match="polarities"):
        parse_label_map("bearish=bad")
    with pytest.raises(ConfigError, match="expected a mapping"):
        load_watchlist({})
    with pytest.raises(DataError, match="not found"):
        open_monitor(nb_classifier, tmp_path / "missing.yaml", tmp_path / "s.db")


def test_entity_matching_aliases_cashtags_and_word_boundaries():
    matcher = EntityMatcher({"AAPL": ["Apple", "iPhone maker"], "MSFT": ["Microsoft"]})
    assert matcher.match("Apple and the iPhone maker's rival Microsoft") == ["AAPL", "MSFT"]
    assert matcher.match("pineapple prices; $aapl up") == ["AAPL"]
    assert matcher.match("$TSLA jumps") == []
    assert EntityMatcher({"AAPL": []}, all_cashtags=True).match("$TSLA and $AAPL") == ["TSLA", "AAPL"]


def test_server_routes_post_events_and_read_entities_and_alerts(nb_classifier, pool, tmp_path, monkeypatch):
    import yaml
    from fastapi.testclient import TestClient

    import tamellm

    (tmp_path / "watch.yaml").write_text(yaml.safe_dump(WATCH))
    config = {"fin": {"model": str(nb_classifier), "watchlist": str(tmp_path / "watch.yaml"),
                      "state": str(tmp_path / "srv.db"), "alerts": str(tmp_path / "srv.jsonl"),
                      "label_map": LABEL_MAP, "window": "1h"}}
    (tmp_path / "monitors.yaml").write_text(yaml.safe_dump(config))
    monkeypatch.setenv("TAMELLM_MONITORS", str(tmp_path / "monitors.yaml"))
    rows = _events(pool)
    with TestClient(tamellm.create_app([str(nb_classifier)])) as client:
        raised = []
        for i in range(0, len(rows), 400):
            response = client.post("/v1/monitor/fin/events", json={"events": rows[i:i + 400]})
            assert response.status_code == 200, response.text
            raised += response.json()["alerts"]
        again = client.post("/v1/monitor/fin/events", json={"events": rows[:10]}).json()
        assert (again["accepted"], again["duplicates"]) == (0, 10)
        assert [a["entity"] for a in raised if a["kind"] == "negative_spike"] == ["ACME"]
        alerts = client.get("/v1/monitor/fin/alerts", params={"entity": "ACME"}).json()["alerts"]
        assert [a["id"] for a in alerts] == [a["id"] for a in raised]
        entities = client.get("/v1/monitor/fin/entities").json()["entities"]
        assert sorted(e["entity"] for e in entities) == ["ACME", "GLOBEX", "INITECH"]
        assert client.get("/v1/monitor/fnn/alerts").status_code == 404
        bad = client.post("/v1/monitor/fin/events", json={"events": [{"id": "x", "text": "no time"}]})
        assert bad.status_code == 400 and "events[0]: missing 'timestamp'" in bad.text
    assert len(_lines(tmp_path / "srv.jsonl")) == len(raised)


def test_follow_reads_a_growing_file_and_stdin_works_too(nb_classifier, pool, tmp_path):
    import io
    import time

    rows = _events(pool, seed=7)
    half = len(rows) // 2
    path = write_jsonl(tmp_path / "events.jsonl", rows[:half])
    monitor = _monitor(nb_classifier, tmp_path)
    stop = threading.Event()
    done = {}
    worker = threading.Thread(target=lambda: done.update(s=monitor.run_file(path, follow=True, poll=0.05,
                                                                               should_stop=stop.is_set)))
    worker.start()
    rest = "".join(json.dumps(r) + "\n" for r in rows[half:])
    deadline = time.monotonic() + 60
    while monitor.summary.read < half and time.monotonic() < deadline:
        time.sleep(0.05)
    with open(path, "a") as handle:  # a writer that flushes half a line first
        handle.write(rest[:1000])
        handle.flush()
        time.sleep(0.3)
        handle.write(rest[1000:])
    while monitor.summary.read < len(rows) and time.monotonic() < deadline:
        time.sleep(0.05)
    stop.set()
    worker.join(30)
    assert done["s"].read == len(rows) and done["s"].skipped == 0
    assert [a["entity"] for a in _lines(tmp_path / "m.alerts.jsonl") if a["kind"] == "negative_spike"] == ["ACME"]

    stream = io.StringIO("".join(json.dumps(r) + "\n" for r in rows))
    summary = _monitor(nb_classifier, tmp_path, name="stdin").run_stream(stream)
    assert summary.read == len(rows) and summary.alerts >= 1


def test_alert_examples_carry_explanations(nb_classifier, pool, tmp_path):
    monitor = open_monitor(nb_classifier, WATCH, tmp_path / "x.db", alerts=tmp_path / "x.jsonl",
                           label_map=LABEL_MAP, explain=True, examples=2)
    monitor.run_file(write_jsonl(tmp_path / "events.jsonl", _events(pool)))
    fired = [a for a in _lines(tmp_path / "x.jsonl") if a["kind"] == "negative_spike"]
    example = fired[0]["examples"][0]
    words = [w["word"] for w in example["explanation"]]
    assert words and all(w in example["text"] for w in words)
