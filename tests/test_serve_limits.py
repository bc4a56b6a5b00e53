"""API keys, rate limits, a full queue, timeouts, binding rules, redaction and JSON logs."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import threading
import time

import httpx
import numpy as np
import pytest
from test_serve_http import LiveServer, model_name

import tamellm
from tamellm import api
from tamellm.errors import ConfigError
from tamellm.serving import logging_json
from tamellm.serving.auth import KeyStore, bearer_token
from tamellm.serving.limits import RateLimiter
from tamellm.serving.redact import luhn_ok, redact

GOOD, OTHER = "good-key-0123456789", "other-key-0123456789"
# Each test uses its own key: the rate limit (4 a minute) is per key.
QUEUE_KEY, REDACT_KEY = "queue-key-0123456789", "redact-key-0123456789"


@pytest.fixture(scope="module")
def keyed(tmp_path_factory, tiny_classifier_dir, tiny_bert_dir):
    key_file = tmp_path_factory.mktemp("keys") / "keys.txt"
    key_file.write_text(f"# keys\n{GOOD}\n\n{OTHER}\n{QUEUE_KEY}\n{REDACT_KEY}\n")
    app = tamellm.create_app(
        [str(tiny_classifier_dir), str(tiny_bert_dir)],
        api_key_file=str(key_file),
        rate_limit_per_minute=4,
        max_queue=1,
        max_batch_size=1,
        max_wait_ms=0,
        request_timeout_s=1.0,
        redact_inputs=True,
        inference_threads=1,  # one inference thread: blocking it fills the queue (see _blocked_inference)
    )
    with LiveServer(app) as server:
        yield server


def _post(server, path, body, key=GOOD, **kwargs):
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return httpx.post(server.url + path, json=body, headers=headers, timeout=30, **kwargs)


def test_keys_are_required_checked_and_rate_limited(keyed):
    from openai import AuthenticationError, OpenAI

    missing = _post(keyed, "/v1/classify", {"input": "hi"}, key=None)
    assert missing.status_code == 401 and missing.json()["error"]["code"] == "missing_api_key"
    assert missing.headers["www-authenticate"] == "Bearer"
    with pytest.raises(AuthenticationError):
        OpenAI(base_url=keyed.url + "/v1", api_key="wrong-key-123456", max_retries=0).models.list()
    good = OpenAI(base_url=keyed.url + "/v1", api_key=OTHER, max_retries=0)
    assert len(good.models.list().data) == 2
    statuses = [_post(keyed, "/v1/classify", {"input": "hi"}).status_code for _ in range(5)]
    assert statuses == [200, 200, 200, 200, 429]
    limited = _post(keyed, "/v1/classify", {"input": "hi"})
    assert (
        limited.json()["error"]["code"] == "rate_limit_exceeded" and int(limited.headers["retry-after"]) >= 1
    )
    # The limit is per key: the other key still has its own budget, health checks need no key.
    assert good.models.list().data and httpx.get(keyed.url + "/healthz").status_code == 200


def _blocked_inference(server) -> threading.Event:
    """Occupy the server's one inference thread until the returned event is set."""
    release = threading.Event()
    server.state.inference.submit(release.wait, 30)
    return release


def test_full_queue_answers_429_and_slow_requests_504(keyed, tiny_bert_dir):
    key = {"Authorization": f"Bearer {QUEUE_KEY}"}
    name = model_name(tiny_bert_dir)
    body = {"model": name, "input": "a cat"}
    release = _blocked_inference(keyed)

    async def spaced() -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=keyed.url, headers=key, timeout=30) as http:
            tasks = []
            for _ in range(3):  # spaced so that each is queued before the next arrives
                tasks.append(asyncio.create_task(http.post("/v1/embeddings", json=body)))
                await asyncio.sleep(0.3)
            return await asyncio.gather(*tasks)

    try:
        answers = asyncio.run(spaced())  # the inference thread stays busy past the 1 s timeout
    finally:
        release.set()
    # The first is in the batch waiting for the thread, the second in the queue (size 1), the third refused.
    assert [a.status_code for a in answers] == [504, 504, 429], [a.text for a in answers]
    full = next(a for a in answers if a.status_code == 429)
    assert full.json()["error"]["code"] == "queue_full" and int(full.headers["retry-after"]) >= 1
    timed_out = next(a for a in answers if a.status_code == 504)
    assert "1 s request timeout" in timed_out.json()["error"]["message"]
    assert httpx.post(keyed.url + "/v1/embeddings", json=body, headers=key, timeout=30).status_code == 200


def test_inputs_are_redacted_before_the_model_when_asked(keyed, tiny_bert_dir):
    key = {"Authorization": f"Bearer {REDACT_KEY}"}
    text = "write to jane.doe@example.com or call +44 20 7946 0958"
    answer = httpx.post(
        keyed.url + "/v1/embeddings",
        json={"input": text, "model": model_name(tiny_bert_dir)},
        headers=key,
        timeout=30,
    )
    got = np.array(answer.json()["data"][0]["embedding"])
    redacted = api.embed("write to [EMAIL] or call [PHONE]", model=str(tiny_bert_dir)).vectors[0]
    original = api.embed(text, model=str(tiny_bert_dir)).vectors[0]
    np.testing.assert_allclose(got, redacted, atol=1e-5)
    assert not np.allclose(got, original, atol=1e-3)


def test_no_key_means_loopback_only(tiny_bert_dir, monkeypatch):
    monkeypatch.delenv("TAMELLM_API_KEYS", raising=False)
    with pytest.raises(ConfigError, match="0.0.0.0 without an API key"):
        tamellm.create_app([str(tiny_bert_dir)], host="0.0.0.0")
    monkeypatch.setenv("TAMELLM_API_KEYS", "env-key-123456789, second-key-12345")
    app = tamellm.create_app([str(tiny_bert_dir)], host="0.0.0.0")
    assert len(app.state.tamellm.keys) == 2


def test_bad_settings_and_key_files_are_named(tiny_bert_dir, tmp_path):
    with pytest.raises(ConfigError, match="max_wait"):
        tamellm.create_app([str(tiny_bert_dir)], max_wait=5)
    with pytest.raises(ConfigError, match="not found"):
        KeyStore.load(tmp_path / "missing.txt", env={})
    (tmp_path / "short.txt").write_text("abc\n")
    with pytest.raises(ConfigError, match="shorter than 8"):
        KeyStore.load(tmp_path / "short.txt", env={})


def test_keystore_keeps_only_hashes_and_compares_them():
    store = KeyStore([GOOD, OTHER])
    assert GOOD not in repr(vars(store)) and len(store) == 2
    assert store.check(GOOD) and store.check(GOOD) != store.check(OTHER)
    assert store.check("good-key-012345678") is None
    assert (
        bearer_token("Bearer abc") == "abc"
        and bearer_token("Basic abc") is None
        and bearer_token(None) is None
    )


def test_rate_limiter_refills_over_time(monkeypatch):
    import tamellm.serving.limits as limits

    now = [100.0]
    monkeypatch.setattr(limits.time, "monotonic", lambda: now[0])
    limiter = RateLimiter(per_minute=2)
    assert [limiter.take("k"), limiter.take("k")] == [0.0, 0.0]
    assert limiter.take("k") == pytest.approx(30.0)
    now[0] += 30
    assert limiter.take("k") == 0.0 and limiter.take("other") == 0.0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mail me at john.doe@example.com now", "mail me at [EMAIL] now"),
        ("card 4111 1111 1111 1111 ok", "card [CARD] ok"),
        ("not a card 4111 1111 1111 1112", "not a card 4111 1111 1111 1112"),
        ("call +44 20 7946 0958 today", "call [PHONE] today"),
        ("ssn 123-45-6789", "ssn [ID]"),
        ("iban DE89 3704 0044 0532 0130 00 end", "iban [IBAN] end"),
        ("on 2024-11-23 at 10:30, 200 OK in 13.5 ms", "on 2024-11-23 at 10:30, 200 OK in 13.5 ms"),
    ],
)
def test_redaction(text, expected):
    assert redact(text) == expected


def test_luhn():
    assert luhn_ok("4111111111111111") and not luhn_ok("4111111111111112")


def test_json_logs_are_redacted_and_carry_the_request_id(keyed):
    stream = io.StringIO()
    loggers = [logging.getLogger(name) for name in logging_json.LOGGERS]
    saved = [(lg.handlers[:], lg.level, lg.propagate) for lg in loggers]
    logging_json.configure(logging.INFO, stream)
    try:
        httpx.get(keyed.url + "/v1/users/jane.doe@example.com", headers={"X-Request-ID": "req-42"})
        logging.getLogger("tamellm.serving").warning(
            "card %s from %s", "4111-1111-1111-1111", "bob@example.org"
        )
        deadline = time.monotonic() + 5  # the access line is written just after the response is sent
        while '"req-42"' not in stream.getvalue() and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:  # other tests (caplog) rely on these loggers propagating to the root
        for lg, (handlers, level, propagate) in zip(loggers, saved, strict=True):
            lg.handlers, lg.level, lg.propagate = handlers, level, propagate
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    access = next(line for line in lines if line.get("request_id") == "req-42")
    assert (
        access["path"] == "/v1/users/[EMAIL]"
        and access["status"] == 404
        and access["message"].endswith("404")
    )
    warning = next(line for line in lines if line["level"] == "warning")
    assert warning["message"] == "card [CARD] from [EMAIL]"
    assert "example" not in stream.getvalue()


def test_threads_default_to_the_cores_shared_by_the_workers():
    import os

    import torch

    from tamellm.config import ServeConfig
    from tamellm.serving.state import set_threads

    before = torch.get_num_threads()
    try:
        assert set_threads(ServeConfig(threads=1)) == 1 and torch.get_num_threads() == 1
        cores = os.cpu_count() or 1
        assert set_threads(ServeConfig(workers=1)) == cores
        assert set_threads(ServeConfig(workers=cores * 2)) == 1
    finally:
        torch.set_num_threads(before)
