"""The OpenAI chat and completion routes on each fast generation engine, through the official openai client.

A real uvicorn server on loopback serves the packaged SmolLM2-135M-Instruct on
onnxruntime-genai (the default) and on CTranslate2: ``stop`` reaches the generator
(plain, streamed and completions alike) and a request past its timeout answers 504
and frees the engine for the next request.
"""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest
from test_serve_http import LiveServer

import tamellm

MODEL = "smollm2-135m-instruct"
COUNT = [{"role": "user", "content": "Count from 1 to 10, one number per line."}]
STORY = [{"role": "user", "content": "Write a long story, at least 300 words, about a dragon who learns to paint."}]


@pytest.fixture(scope="module", params=["onnxruntime-genai", "ctranslate2"])
def live(request):
    with pytest.MonkeyPatch.context() as patch:
        # The per-user cache, as persistent_tamellm_home: the engines' copies are built once a machine.
        patch.setenv("TAMELLM_HOME", str(Path.home() / ".cache" / "tamellm"))
        app = tamellm.create_app([MODEL], backend=request.param, request_timeout_s=2.0)
        with LiveServer(app) as server:
            assert server.state.pool.models[MODEL].tasks["generate"].info()["backend"] == request.param
            yield server


@pytest.fixture(scope="module")
def client(live):
    from openai import OpenAI

    return OpenAI(base_url=live.url + "/v1", api_key="unused", max_retries=0, timeout=60)


def test_stop_cuts_plain_streamed_and_completion_answers(client):
    full = client.chat.completions.create(model=MODEL, messages=COUNT, max_tokens=16).choices[0]
    stop = full.message.content.split()[2]  # a word of this engine's own answer
    expected = full.message.content[:full.message.content.index(stop)].strip()
    cut = client.chat.completions.create(model=MODEL, messages=COUNT, max_tokens=16, stop=[stop, "never-said"])
    assert cut.choices[0].message.content == expected and cut.choices[0].finish_reason == "stop"
    chunks = client.chat.completions.create(model=MODEL, messages=COUNT, max_tokens=16, stop=stop, stream=True)
    assert "".join(c.choices[0].delta.content or "" for c in chunks).strip() == expected
    completion = client.completions.create(model=MODEL, prompt=COUNT[0]["content"], max_tokens=16, stop=stop)
    assert completion.choices[0].text == expected and completion.choices[0].finish_reason == "stop"


def test_no_stop_answers_in_full(client):
    answer = client.chat.completions.create(model=MODEL, messages=COUNT, max_tokens=6).choices[0]
    assert answer.finish_reason == "length" and answer.message.content


def test_bad_stop_is_refused_naming_the_field(live):
    answer = httpx.post(live.url + "/v1/chat/completions",
                        json={"messages": COUNT, "max_tokens": 4, "stop": ["a", "b", "c", "d", "e"]})
    assert answer.status_code == 422 and answer.json()["error"]["param"].startswith("stop")
    answer = httpx.post(live.url + "/v1/completions", json={"prompt": "hi", "stop": 3})
    assert answer.status_code == 422 and "stop" in answer.json()["error"]["param"]


def test_a_timed_out_chat_answers_504_and_stops_generating(live, client):
    answer = httpx.post(live.url + "/v1/chat/completions", json={"messages": STORY, "max_tokens": 4000},
                        timeout=60)
    assert answer.status_code == 504 and answer.json()["error"]["code"] == "timeout"
    # The one generation thread is free at once: the cancelled story (hundreds of tokens) stopped.
    start = time.perf_counter()
    live.state.generation.submit(lambda: None).result(timeout=30)
    assert time.perf_counter() - start < 1.5
    assert client.chat.completions.create(model=MODEL, messages=COUNT, max_tokens=3).usage.completion_tokens == 3
