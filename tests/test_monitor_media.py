"""The monitor takes image / PDF / audio items: an event's ``file`` is read (OCR, pypdf, Whisper) into its text.

`tamellm monitor run` runs in a new process as users run it; the server route through the app.
"""

from __future__ import annotations

import base64
import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from test_apps_monitor_support import shared_nb_classifier
from test_media import render_text, write_pdf

from tamellm.apps.monitor.events import read_file
from tamellm.errors import DataError

TAMELLM = Path(sys.executable).parent / "tamellm"
WATCH = {"ACME": ["Acme Corp"], "GLOBEX": ["Globex"]}
SCANNED = "Acme Corp shares plunge after fraud probe"
LETTER = "Globex beats estimates and raises its outlook"


@pytest.fixture(scope="module")
def nb_classifier(tmp_path_factory) -> Path:
    return shared_nb_classifier(tmp_path_factory)


def _texts(state: Path) -> dict[str, tuple[str, str]]:
    with sqlite3.connect(state) as db:
        return {row[0]: (row[1], row[2]) for row in db.execute("SELECT id, text, source FROM events")}


def test_monitor_run_reads_image_and_pdf_events(nb_classifier, tmp_path):
    render_text(tmp_path / "scan.png", [SCANNED])
    (tmp_path / "docs").mkdir()
    write_pdf(tmp_path / "docs" / "letter.pdf", [LETTER])
    rows = [{"id": "1", "timestamp": "2026-01-05T09:00:00Z", "text": "Acme Corp opens flat"},
            {"id": "2", "timestamp": "2026-01-05T09:05:00Z", "file": "scan.png"},  # relative to the events file
            {"id": "3", "timestamp": "2026-01-05T09:10:00Z", "file": "docs/letter.pdf", "source": "mail"}]
    events = tmp_path / "events.jsonl"
    events.write_text("".join(json.dumps(r) + "\n" for r in rows))
    (tmp_path / "watch.yaml").write_text(yaml.safe_dump(WATCH))
    state = tmp_path / "m.db"
    done = subprocess.run([str(TAMELLM), "monitor", "run", "--model", str(nb_classifier), "--watchlist",
                           str(tmp_path / "watch.yaml"), "--state", str(state), "--input", str(events),
                           "--label-map", "bearish=negative,bullish=positive", "--json"],
                          capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert (summary["read"], summary["new"], summary["unmatched"]) == (3, 3, 0)
    texts = _texts(state)
    assert texts["2"][0].lower().startswith("acme corp shares plunge") and texts["2"][1] == "scan.png"
    assert texts["3"] == (LETTER, "mail")

    # a missing file names the line; with --on-bad skip it is counted and the run goes on
    events.write_text(json.dumps({"id": "4", "timestamp": "2026-01-05T09:20:00Z", "file": "gone.png"}) + "\n"
                      + json.dumps({"id": "5", "timestamp": "2026-01-05T09:25:00Z", "text": "Globex flat"}) + "\n")
    with pytest.raises(DataError, match=r"events.jsonl line 1: .*gone.png not found"):
        list(read_file(events))
    batch = next(read_file(events, on_bad="skip"))  # what --on-bad skip does: counted, the run goes on
    assert [e.id for e in batch.events] == ["5"] and "gone.png not found" in batch.skipped[0]

def test_server_route_takes_files_as_base64_but_no_server_paths(nb_classifier, tmp_path, monkeypatch):
    from fastapi.testclient import TestClient

    import tamellm

    (tmp_path / "watch.yaml").write_text(yaml.safe_dump(WATCH))
    config = {"fin": {"model": str(nb_classifier), "watchlist": str(tmp_path / "watch.yaml"),
                      "state": str(tmp_path / "srv.db"), "label_map": "bearish=negative,bullish=positive"}}
    (tmp_path / "monitors.yaml").write_text(yaml.safe_dump(config))
    monkeypatch.setenv("TAMELLM_MONITORS", str(tmp_path / "monitors.yaml"))
    pdf = base64.b64encode(write_pdf(tmp_path / "letter.pdf", [LETTER]).read_bytes()).decode()
    with TestClient(tamellm.create_app([str(nb_classifier)])) as client:
        ok = client.post("/v1/monitor/fin/events", json={"events": [
            {"id": "p", "timestamp": "2026-01-05T09:00:00Z", "file": {"name": "letter.pdf", "data": pdf}}]})
        assert ok.status_code == 200, ok.text
        assert ok.json()["accepted"] == 1
        refused = client.post("/v1/monitor/fin/events", json={"events": [
            {"id": "q", "timestamp": "2026-01-05T09:00:00Z", "file": str(tmp_path / "letter.pdf")}]})
        assert refused.status_code == 400 and "events[0]: 'file' as a path" in refused.text
    assert _texts(tmp_path / "srv.db")["p"] == (LETTER, "letter.pdf")
