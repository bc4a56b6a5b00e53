"""`tamellm serve` as users run it: a real process, SIGTERM while a request is in flight, workers."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time

import httpx
import pytest


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start(*args: str) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    env = {**os.environ, "TAMELLM_API_KEYS": ""}
    process = subprocess.Popen(
        [sys.executable, "-m", "tamellm.cli.main", "serve", *args, "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"server exited {process.returncode}: {process.stderr.read()}")
        try:
            if httpx.get(url + "/readyz", timeout=2).status_code == 200:
                return process, url
        except httpx.TransportError:
            pass
        time.sleep(0.25)
    process.kill()
    raise AssertionError("server not ready in 120 s")


def _stop(process: subprocess.Popen) -> tuple[int, str]:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        _, err = process.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        _, err = process.communicate()
    return process.returncode, err


def test_sigterm_finishes_the_request_in_flight(tiny_gpt2_the_dir):
    process, url = _start(str(tiny_gpt2_the_dir))
    try:
        body = {"messages": [{"role": "user", "content": "Go on"}], "max_tokens": 200, "stream": True}
        with httpx.stream("POST", url + "/v1/chat/completions", json=body, timeout=60) as response:
            lines = response.iter_lines()
            assert next(lines).startswith("data: ")
            process.send_signal(signal.SIGTERM)  # while the answer is being streamed
            rest = [line for line in lines if line]
        assert rest[-1] == "data: [DONE]"
        pieces = [json.loads(line[6:])["choices"][0]["delta"].get("content", "") for line in rest[:-1]]
        assert "".join(pieces).split().count("the") > 100
    finally:
        code, err = _stop(process)
    assert code == 0, err
    log = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    messages = [line["message"] for line in log]
    assert any("open to anyone on this machine" in m for m in messages)  # no key: loopback only, and said so
    assert any(line.get("path") == "/v1/chat/completions" and line.get("status") == 200 for line in log)
    assert "server stopped" in messages


def test_several_workers_serve_and_stop(tiny_bert_dir):
    process, url = _start(str(tiny_bert_dir), "--workers", "2")
    try:
        seen = []
        deadline = time.monotonic() + 30
        while len(set(seen)) < 2 and time.monotonic() < deadline:
            with httpx.Client() as http:  # a new connection each time: the kernel spreads them over workers
                seen.append(http.get(url + "/healthz", headers={"Connection": "close"}).json()["pid"])
        pids = set(seen)
        assert len(pids) == 2 and process.pid not in pids
        # Whichever worker answers the scrape, it counts the requests of all workers.
        scrapes = [httpx.get(url + "/metrics", headers={"Connection": "close"}).text for _ in range(4)]
        for text in scrapes:
            line = next(
                x for x in text.splitlines() if x.startswith("tamellm_requests_total") and "/healthz" in x
            )
            assert float(line.split()[-1]) == len(seen)
        answer = httpx.post(url + "/v1/embeddings", json={"input": ["a", "b"]}, timeout=30)
        assert answer.status_code == 200 and len(answer.json()["data"]) == 2
    finally:
        code, err = _stop(process)
    assert code == 0, err


def test_cli_refuses_an_open_address_without_keys(tiny_bert_dir):
    result = subprocess.run(
        [sys.executable, "-m", "tamellm.cli.main", "serve", str(tiny_bert_dir), "--host", "0.0.0.0"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "TAMELLM_API_KEYS": ""},
    )
    assert result.returncode == 2
    assert "Refusing to serve on 0.0.0.0 without an API key" in result.stderr
    assert "--api-key-file" in result.stderr


@pytest.mark.parametrize("model", ["no-such-model-anywhere"])
def test_cli_names_an_unknown_model(model):
    result = subprocess.run(
        [sys.executable, "-m", "tamellm.cli.main", "serve", model],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 3 and model in result.stderr
