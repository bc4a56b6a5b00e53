"""The web page's server side without a browser: the page and its headers, /ui/api, uploads, the job queue."""

from __future__ import annotations

import fnmatch
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

KEY = "routes-test-key-0123"
AUTH = {"Authorization": f"Bearer {KEY}"}
# Every hook the issue names for browser tests: the page must carry each one.
TEST_IDS = ["nav-playground", "nav-train", "nav-runs", "nav-models", "api-key-input", "api-key-save",
            "classify-text", "classify-labels", "classify-model", "classify-submit", "classify-explain",
            "chat-input", "chat-send", "chat-stop", "train-file", "train-start", "train-status", "train-result"]
# Created by the scripts: classify-result-label, explanation-word, chat-message-assistant, runs-row.
SCRIPT_IDS = ["classify-result-label", "explanation-word", "chat-message-assistant", "runs-row"]


@pytest.fixture(scope="module")
def runs_root(tmp_path_factory) -> Path:
    """A runs folder with one run as `tamellm train` leaves it (the files the page reads)."""
    root = tmp_path_factory.mktemp("runs")
    run = root / "20260101-120000-classify-full"
    (run / "model").mkdir(parents=True)
    metrics = {"accuracy": 0.75, "loss": 0.5, "labels": ["bad", "good"], "confusion_matrix": [[3, 1], [1, 3]]}
    (run / "result.json").write_text(json.dumps({"metrics": {"validation": metrics, "test": metrics},
                                                 "seconds": 1.5, "task": "classify"}))
    (run / "params.json").write_text(json.dumps({"strategy": "full", "learning_rate": 5e-5}))
    (run / "model" / "tamellm.json").write_text(json.dumps({"task": "classify", "primary_metric": "accuracy"}))
    rows = [{"step": s, "split": "validation", "loss": 1 / s, "accuracy": 0.5 + s / 100} for s in (2, 4, 6)]
    (run / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows) + '{"torn')
    return root


@pytest.fixture(scope="module")
def compressed_dir(tmp_path_factory, tiny_bert_dir) -> Path:
    """A copy of the tiny encoder with the candidates table auto-compress writes beside its output."""
    import shutil

    folder = tmp_path_factory.mktemp("compressed") / "tiny-compressed"
    shutil.copytree(tiny_bert_dir, folder)
    row = {"path": str(folder), "size_bytes": 1000, "accuracy": 0.9, "latency_p50_ms": 2.0, "latency_p95_ms": 3.0,
           "throughput": 500.0, "details": {}}
    table = {"path": str(folder), "chosen": "onnx-int8", "max_drop": 0.01, "within_budget": True, "warning": None,
             "baseline": {**row, "method": "original"}, "candidates": [{**row, "method": "onnx-int8"}], "failed": {}}
    (folder / "candidates.json").write_text(json.dumps(table))
    return folder


@pytest.fixture(scope="module")
def client(runs_root, compressed_dir):
    from tamellm.serving.app import build_app

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TAMELLM_API_KEYS", KEY)
        mp.setenv("TAMELLM_RUNS_DIR", str(runs_root))
        app = build_app([str(compressed_dir)], {"max_body_bytes": 4096})
    with TestClient(app) as test_client:
        yield test_client


def test_the_page_carries_every_hook_and_strict_headers(client):
    page = client.get("/")
    assert page.status_code == 200
    for test_id in TEST_IDS:
        assert f'data-testid="{test_id}"' in page.text, test_id
    scripts = "".join(p.read_text() for p in (Path(__import__("tamellm.ui").ui.STATIC_DIR) / "js").glob("*.js"))
    for test_id in SCRIPT_IDS:
        assert test_id in scripts, test_id
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "connect-src 'self'" in policy and "'unsafe-" not in policy
    assert page.headers["x-content-type-options"] == "nosniff" and page.headers["x-frame-options"] == "DENY"
    script = client.get("/ui/static/js/app.js")
    assert script.status_code == 200 and "javascript" in script.headers["content-type"]
    assert "innerHTML" not in scripts and "insertAdjacentHTML" not in scripts and "eval(" not in scripts


def test_ui_api_needs_the_key(client):
    assert client.get("/ui/api/info").status_code == 401
    assert client.get("/ui/api/info", headers={"Authorization": "Bearer wrong-key-000"}).json()["error"]["code"] == \
        "invalid_api_key"
    info = client.get("/ui/api/info", headers=AUTH).json()
    assert info["models"][0]["tasks"][0] == "embed" and "occlusion" in info["explainers"]


def test_models_lists_size_and_the_compression_table(client):
    models = client.get("/ui/api/models", headers=AUTH).json()
    (loaded,) = models["loaded"]
    assert loaded["size_bytes"] > 0 and loaded["tasks"][0] == "embed"
    assert [(r["method"], r["chosen"]) for r in loaded["compression"]["rows"]] == [("original", False),
                                                                                   ("onnx-int8", True)]
    assert any(m["name"] == "minilm-l6" for m in models["catalog"])


def test_runs_list_and_detail(client, runs_root):
    runs = client.get("/ui/api/runs", headers=AUTH).json()
    assert [r["name"] for r in runs["data"]] == ["20260101-120000-classify-full"]
    assert runs["data"][0]["strategy"] == "full" and runs["data"][0]["validation"] == 0.75
    detail = client.get("/ui/api/runs/20260101-120000-classify-full", headers=AUTH).json()
    assert [r["step"] for r in detail["history"]] == [2, 4, 6]  # the torn last line is skipped
    assert detail["metrics"]["test"]["confusion_matrix"] == [[3, 1], [1, 3]]
    assert detail["params"]["learning_rate"] == 5e-5


@pytest.mark.parametrize("name", ["..", "../..", "nope", "20260101-120000-classify-full/model"])
def test_run_detail_refuses_anything_but_a_run_under_the_root(client, name):
    answer = client.get(f"/ui/api/runs/{name}", headers=AUTH)
    assert answer.status_code == 404, answer.text


def test_upload_previews_columns_and_the_validation_report(client):
    rows = "review,stars\n" + "great phone,good\n" * 3 + "awful soup,bad\n" * 3 + ",good\n"
    answer = client.post("/ui/api/uploads", content=rows.encode(), headers={**AUTH, "X-Filename": "my reviews.csv"})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    preview = body["preview"]
    assert preview["inferred"]["text"] == "review" and preview["inferred"]["label"] == "stars"
    assert preview["total_rows"] == 7 and preview["rows"][0] == ["great phone", "good"]
    issues = {issue["code"]: issue for issue in preview["validation"]["issues"]}
    assert {"empty_text", "duplicate_text"} <= set(issues)  # the data layer's findings, with fixes
    assert issues["empty_text"]["rows"] == [8] and issues["empty_text"]["fix"]  # file row numbers
    assert body["filename"] == "my_reviews.csv"


def test_upload_refusals_are_clear(client):
    wrong = client.post("/ui/api/uploads", content=b"x", headers={**AUTH, "X-Filename": "model.pkl"})
    assert wrong.status_code == 415 and ".csv" in wrong.json()["error"]["message"]
    empty = client.post("/ui/api/uploads", content=b"", headers={**AUTH, "X-Filename": "a.csv"})
    assert empty.status_code == 422
    big = client.post("/ui/api/uploads", content=b"a,b\n" * 2000, headers={**AUTH, "X-Filename": "a.csv"})
    assert big.status_code == 413
    unreadable = client.post("/ui/api/uploads", content=b"text,label\n", headers={**AUTH, "X-Filename": "a.csv"})
    assert unreadable.status_code == 400 and "no rows" in unreadable.json()["error"]["message"]


def test_jobs_run_one_at_a_time_and_cancel(tmp_path, monkeypatch):
    from tamellm.serving import jobs

    monkeypatch.setattr(jobs, "train_command", lambda data, run_dir, options: [
        sys.executable, "-c", f"import time, json; time.sleep({options['sleep']}); print(json.dumps({{'ok': 1}}))"])
    queue = jobs.JobQueue(tmp_path / "runs")
    first = queue.submit(tmp_path / "a.csv", {"sleep": 30})
    second = queue.submit(tmp_path / "a.csv", {"sleep": 0})
    third = queue.submit(tmp_path / "a.csv", {"sleep": 0})
    deadline = time.monotonic() + 30
    while first.status != jobs.RUNNING and time.monotonic() < deadline:
        time.sleep(0.05)
    assert (first.status, second.status, queue.position(third)) == (jobs.RUNNING, jobs.QUEUED, 2)
    queue.cancel(second)  # queued: never starts
    queue.cancel(first)  # running: its process is stopped
    while third.status != jobs.DONE and time.monotonic() < deadline:
        time.sleep(0.05)
    assert (first.status, second.status, third.status) == (jobs.CANCELLED, jobs.CANCELLED, jobs.DONE)
    assert third.result == {"ok": 1} and first.process.returncode != 0 and second.process is None
    assert third.to_dict()["run_name"].startswith("ui-")


def test_train_command_is_the_cli():
    from tamellm.serving.jobs import train_command

    command = train_command(Path("d.csv"), Path("runs/x"), {"model": "minilm-l6", "strategy": "lora", "epochs": 1.0})
    assert command[1:] == ["-m", "tamellm.cli.main", "train", "--data", "d.csv", "--output", "runs/x", "--json",
                           "--model", "minilm-l6", "--strategy", "lora", "--epochs", "1.0"]


def test_every_page_file_is_package_data():
    """pyproject's package-data globs cover every template and static file (else an installed copy lacks it)."""
    root = Path(__file__).parents[1]
    globs = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["tamellm.ui"]
    ui = root / "src" / "tamellm" / "ui"
    files = [p.relative_to(ui).as_posix() for p in ui.rglob("*") if p.is_file() and p.suffix != ".pyc"
             and p.suffix != ".py" and "__pycache__" not in p.parts]
    assert files and [f for f in files if not any(fnmatch.fnmatch(f, g) for g in globs)] == []


def test_tamellm_serve_in_a_process_serves_the_page(tiny_bert_dir, tmp_path):
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "TAMELLM_API_KEYS": "", "TAMELLM_RUNS_DIR": str(tmp_path)}
    log = (tmp_path / "server.log").open("w")
    process = subprocess.Popen([sys.executable, "-m", "tamellm.cli.main", "serve", str(tiny_bert_dir), "--port",
                                str(port), "--max-upload-mb", "0.01"], stdout=log, stderr=log, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 300  # a shared 2-core machine under load starts slowly
        while True:
            assert process.poll() is None, (tmp_path / "server.log").read_text()
            assert time.monotonic() < deadline, f"server not ready in 300 s: {(tmp_path / 'server.log').read_text()}"
            try:
                if httpx.get(url + "/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.25)
        page = httpx.get(url + "/")
        assert page.status_code == 200 and 'data-testid="classify-submit"' in page.text
        assert httpx.get(url + "/ui/static/app.css").status_code == 200
        assert httpx.get(url + "/ui/api/runs").json() == {"runs_dir": str(tmp_path.resolve()), "data": []}
        assert httpx.get(url + "/ui/api/info").json()["max_upload_bytes"] == 10485  # --max-upload-mb 0.01
        big = httpx.post(url + "/ui/api/uploads", content=b"text,label\n" + b"a,b\n" * 4000,
                         headers={"X-Filename": "big.csv"})
        assert big.status_code == 413 and "the limit is 10485" in big.json()["error"]["message"]
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(30)
        log.close()


def _fake_command(monkeypatch, seconds: float) -> None:
    """Jobs run a Python child that prints its extra arguments as JSON (the real CLI is slow to start);
    it sleeps ``seconds`` unless resumed."""
    from tamellm.serving import jobs

    script = (f"import json, sys, time; time.sleep(0 if '--resume' in sys.argv else {seconds}); "
              "print(json.dumps({'argv': sys.argv[1:]}))")
    monkeypatch.setattr(jobs, "train_command", lambda data, run_dir, options: [sys.executable, "-c", script])


def _wait(job, states: set[str], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while job.status not in states and time.monotonic() < deadline:
        time.sleep(0.05)
    assert job.status in states, job.status


def test_jobs_survive_a_server_restart_and_resume(tmp_path, monkeypatch):
    from tamellm.serving import jobs

    _fake_command(monkeypatch, 30)
    root = tmp_path / "runs"
    first = jobs.JobQueue(root)
    job = first.submit(tmp_path / "a.csv", {"model": "m"})
    waiting = first.submit(tmp_path / "a.csv", {"model": "n"})
    _wait(job, {jobs.RUNNING})
    first.stop_all()  # what the server does when it stops
    assert (job.status, waiting.status, job.process.returncode != 0) == (jobs.INTERRUPTED, jobs.INTERRUPTED, True)
    saved = json.loads((root / jobs.STATE_FILE).read_text())
    assert [j["status"] for j in saved["jobs"]] == [jobs.INTERRUPTED, jobs.INTERRUPTED]

    second = jobs.JobQueue(root)  # a new server on the same runs folder
    again = second.jobs[job.id]
    assert again.to_dict()["resumable"] and again.options == {"model": "m"} and again.run_dir == job.run_dir
    second.resume(again)
    _wait(again, {jobs.DONE, jobs.FAILED}, 60)
    assert again.status == jobs.DONE and again.result == {"argv": ["--resume"]} and again.resumes == 1
    with pytest.raises(ValueError, match="only a failed, cancelled or interrupted"):
        second.resume(again)  # a finished job is not resumed
    second.cancel(second.jobs[waiting.id])

    # A server killed outright leaves "running" in the file: the next one reads it as interrupted.
    data = json.loads((root / jobs.STATE_FILE).read_text())
    data["jobs"][0]["status"] = jobs.RUNNING
    (root / jobs.STATE_FILE).write_text(json.dumps(data))
    assert jobs.JobQueue(root).jobs[data["jobs"][0]["id"]].status == jobs.INTERRUPTED


def test_trial_table_of_a_tune_while_it_runs(tmp_path):
    from tamellm.ui.views import trial_rows

    tune = tmp_path / "tune"
    for number, values, finished in (("000", [0.5, 0.75, 0.7], True), ("001", [0.6], False)):
        folder = tune / "trials" / number
        folder.mkdir(parents=True)
        (folder / "params.json").write_text(json.dumps({"strategy": "lora", "learning_rate": 1e-4, "lora_r": 8,
                                                        "epochs": 2}))
        (folder / "metrics.jsonl").write_text("".join(
            json.dumps({"step": i, "split": "validation", "loss": 1.0, "accuracy": v}) + "\n"
            for i, v in enumerate(values)))
        if finished:
            (folder / "result.json").write_text("{}")
    rows = trial_rows(tune)
    assert [(r["number"], r["state"], r["best"], r["last"], r["evaluations"]) for r in rows] == [
        (0, "complete", 0.75, 0.7, 3), (1, "running", 0.6, 0.6, 1)]
    assert rows[0]["metric"] == "accuracy" and rows[0]["params"]["lora_r"] == 8
    (tune / "hpo.json").write_text(json.dumps({"metric": "accuracy", "trials": [
        {"number": 0, "state": "COMPLETE", "value": 0.75}, {"number": 1, "state": "PRUNED", "value": None}]}))
    assert [r["state"] for r in trial_rows(tune)] == ["complete", "pruned"]


def test_info_names_the_apps_and_jobs_need_one_worker(client):
    info = client.get("/ui/api/info", headers=AUTH).json()
    assert info["apps"] == {"faq": [], "monitor": [], "recommend": []} and info["workers"] == 1
    settings = client.app.state.tamellm.settings
    settings.workers = 2
    try:
        answer = client.post("/ui/api/jobs", json={"upload_id": "0123456789ab-data"}, headers=AUTH)
    finally:
        settings.workers = 1
    assert answer.status_code == 409 and "--workers 1" in answer.json()["error"]["message"]


def test_explain_all_labels_and_faithfulness(client):
    body = {"input": "the team won the cup", "labels": ["sports", "weather"], "method": "occlusion"}
    explanation = client.post("/v1/explain", json={**body, "all_labels": True}, headers=AUTH).json()["explanation"]
    assert set(explanation["per_label"]) == {"sports", "weather"}
    assert [w["word"] for w in explanation["per_label"]["weather"]] == ["the", "team", "won", "the", "cup"]
    model = client.get("/ui/api/info", headers=AUTH).json()["models"][0]["name"]
    answer = client.post("/ui/api/faithfulness", json={**body, "model": model}, headers=AUTH)
    assert answer.status_code == 200, answer.text
    rows = {r["method"]: r for r in answer.json()["data"]}
    assert set(rows) == {"occlusion", "random"} and all(r["texts"] == 1 for r in rows.values())
    assert all(isinstance(r["comprehensiveness"], float) for r in rows.values())


def test_run_without_a_model_cannot_be_loaded_or_compressed(client, runs_root, tmp_path):
    name = "20260101-120000-classify-full"
    broken = client.post(f"/ui/api/runs/{name}/load", headers=AUTH)
    assert broken.status_code == 400  # its model folder holds no weights: the loader's message
    (runs_root / "half-run").mkdir()
    (runs_root / "half-run" / "result.json").write_text("{}")
    for action in ("load", "compress"):
        answer = client.post(f"/ui/api/runs/half-run/{action}", json={}, headers=AUTH)
        assert answer.status_code == 409 and "no model folder" in answer.json()["error"]["message"]
    shutil.rmtree(runs_root / "half-run")


def test_a_killed_server_takes_its_running_job_with_it(tmp_path):
    """A job's child gets SIGTERM when its server dies (no orphan keeps writing the run a Resume will use)."""
    script = f"""
import sys, time
from pathlib import Path
from tamellm.serving import jobs
jobs.train_command = lambda data, run_dir, options: [sys.executable, "-c", "import time; time.sleep(120)"]
queue = jobs.JobQueue(Path({str(tmp_path / 'runs')!r}))
job = queue.submit(Path("a.csv"), {{}})
while job.process is None:
    time.sleep(0.05)
print(job.process.pid, flush=True)
time.sleep(120)
"""
    server = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        child = int(server.stdout.readline())
        assert Path(f"/proc/{child}").is_dir()  # running
        server.kill()  # SIGKILL: no atexit, no cleanup of its own
        server.wait(10)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:  # gone, or a zombie waiting for whoever adopted it
                if Path(f"/proc/{child}/stat").read_text().split(")")[-1].split()[0] == "Z":
                    break
            except FileNotFoundError:
                break
            time.sleep(0.1)
        else:
            raise AssertionError(f"job process {child} outlived its killed server")
    finally:
        server.kill()
