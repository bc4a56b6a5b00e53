"""The HTTP service against a real uvicorn server on loopback, with the official openai client.

The tiny random models of conftest.py are served; results are compared with what the
same models answer through the Python API.
"""

from __future__ import annotations

import asyncio
import json
import re
import socket
import threading
import time

import httpx
import numpy as np
import pytest

import tamellm
from tamellm import api


class LiveServer:
    """A uvicorn server in a thread on a free loopback port (stopped like SIGTERM would: should_exit)."""

    def __init__(self, app) -> None:
        import uvicorn

        self.app = app
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.server = uvicorn.Server(uvicorn.Config(app, log_config=None, access_log=False, lifespan="on"))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.02)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(30)

    @property
    def state(self):
        return self.app.state.tamellm


def model_name(folder) -> str:
    return api.load(folder).name


@pytest.fixture(scope="module")
def live(tiny_gpt2_the_dir, tiny_bert_dir, tiny_classifier_dir, tiny_ner_dir):
    app = tamellm.create_app(
        [str(tiny_gpt2_the_dir), str(tiny_bert_dir), str(tiny_classifier_dir), str(tiny_ner_dir)],
        max_wait_ms=30,
        max_input_chars=500,
        max_body_bytes=20_000,
    )
    with LiveServer(app) as server:
        yield server


@pytest.fixture(scope="module")
def client(live):
    from openai import OpenAI

    return OpenAI(base_url=live.url + "/v1", api_key="unused", max_retries=0, timeout=30)


def test_model_listing(client, tiny_gpt2_the_dir, tiny_bert_dir, tiny_classifier_dir, tiny_ner_dir):
    models = {m.id: m for m in client.models.list().data}
    expected = {model_name(d) for d in (tiny_gpt2_the_dir, tiny_bert_dir, tiny_classifier_dir, tiny_ner_dir)}
    assert set(models) == expected
    assert models[model_name(tiny_bert_dir)].model_extra["tasks"] == ["embed", "zero-shot-classification"]


def test_chat_completion(client, tiny_gpt2_the_dir):
    reply = client.chat.completions.create(
        model=model_name(tiny_gpt2_the_dir),
        max_tokens=5,
        messages=[{"role": "user", "content": "Say something"}],
    )
    assert reply.choices[0].message.content.split() == ["the"] * 5
    assert reply.choices[0].finish_reason == "length"
    assert reply.usage.completion_tokens == 5 and reply.usage.prompt_tokens > 0


def test_streaming_chat_matches_plain_chat(client):
    messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Tell me a story"}]
    plain = client.chat.completions.create(model=None, messages=messages, max_tokens=12)  # first chat model
    chunks = list(client.chat.completions.create(messages=messages, max_tokens=12, stream=True, model=None))
    streamed = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert len(chunks) > 3
    assert streamed.strip() == plain.choices[0].message.content
    assert chunks[-1].choices[0].finish_reason == "stop"


def test_completions_answer_each_prompt(client, tiny_gpt2_the_dir):
    result = client.completions.create(
        model=model_name(tiny_gpt2_the_dir), prompt=["one", "two"], max_tokens=3
    )
    assert [c.index for c in result.choices] == [0, 1]
    assert all(c.text.split() == ["the"] * 3 for c in result.choices)
    assert result.usage.completion_tokens == 6


def test_embeddings_equal_the_python_api(client, tiny_bert_dir):
    texts = ["A cat sits on the mat.", "Markets fell sharply."]
    # Left out, the openai client asks for base64 and decodes it; ask for floats too.
    for options in ({}, {"encoding_format": "float"}):
        result = client.embeddings.create(model=model_name(tiny_bert_dir), input=texts, **options)
        got = np.array([d.embedding for d in result.data])
        assert got.shape == (2, 32)
        np.testing.assert_allclose(got, api.embed(texts, model=str(tiny_bert_dir)).vectors, atol=1e-5)
        tokenizer = api.load(tiny_bert_dir).tokenizer
        assert result.usage.prompt_tokens == sum(len(tokenizer(t, add_special_tokens=False)["input_ids"])
                                                 for t in texts) > 0


def test_classify_with_fine_tuned_labels_and_zero_shot(live, tiny_classifier_dir, tiny_bert_dir):
    texts = ["I love this restaurant.", "The soup was cold."]
    answer = httpx.post(
        live.url + "/v1/classify", json={"model": model_name(tiny_classifier_dir), "input": texts}
    )
    assert answer.status_code == 200, answer.text
    expected = api.classify(texts, model=str(tiny_classifier_dir))
    for item, want in zip(answer.json()["data"], expected, strict=True):
        assert item["label"] == want.label and set(item["scores"]) == {"negative", "positive"}
        assert item["scores"][want.label] == pytest.approx(want.score, abs=1e-5)
    zero = httpx.post(
        live.url + "/v1/classify",
        json={"model": model_name(tiny_bert_dir), "input": "A kitten", "labels": ["cat", "car"]},
    )
    assert zero.status_code == 200, zero.text
    want = api.classify("A kitten", labels=["cat", "car"], model=str(tiny_bert_dir))
    assert zero.json()["data"][0]["label"] == want.label
    one_label = httpx.post(
        live.url + "/v1/classify", json={"model": model_name(tiny_bert_dir), "input": "x", "labels": ["cat"]}
    )
    assert one_label.status_code == 422 and one_label.json()["error"]["param"] == "labels"


def test_ner_equals_the_python_api(live, tiny_ner_dir):
    text = "Barack Obama visited Paris in the spring."
    answer = httpx.post(live.url + "/v1/ner", json={"input": [text]})
    assert answer.status_code == 200, answer.text
    want = api.ner(text, model=str(tiny_ner_dir))
    assert answer.json()["data"][0]["entities"] == [e.to_dict() for e in want.entities]
    assert want.entities  # the biased tiny model does find entities


def test_summarize(live):
    answer = httpx.post(
        live.url + "/v1/summarize", json={"input": ["A long text about cats."], "max_words": 5}
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["data"][0]["summary"].split()[0] == "the"


def test_explain(live, tiny_classifier_dir):
    answer = httpx.post(
        live.url + "/v1/explain",
        json={"model": model_name(tiny_classifier_dir), "input": "The film was boring"},
        timeout=60,
    )
    assert answer.status_code == 200, answer.text
    explanation = answer.json()["explanation"]
    assert explanation["label"] in {"negative", "positive"}
    assert [w["word"] for w in explanation["words"]] == ["The", "film", "was", "boring"]


def test_concurrent_requests_share_micro_batches(live, tiny_classifier_dir):
    name = model_name(tiny_classifier_dir)
    texts = [f"sentence number {i} about the great phone" for i in range(24)]
    metric = live.state.metrics.batch_size.labels(name, "classify")
    count_before, sum_before = _histogram(metric)

    async def run() -> list[dict]:
        async with httpx.AsyncClient(base_url=live.url, timeout=30) as http:
            answers = await asyncio.gather(
                *(http.post("/v1/classify", json={"model": name, "input": t}) for t in texts)
            )
        return [a.json() for a in answers]

    results = asyncio.run(run())
    expected = api.classify(texts, model=str(tiny_classifier_dir))
    for got, want in zip(results, expected, strict=True):
        assert got["data"][0]["scores"][want.label] == pytest.approx(want.score, abs=1e-5)
    count, total = _histogram(metric)
    assert total - sum_before == len(texts)
    assert count - count_before < len(texts)  # fewer model calls than requests: they were batched


def _histogram(metric) -> tuple[float, float]:
    samples = {s.name: s.value for s in metric.collect()[0].samples}
    return samples["tamellm_batch_size_count"], samples["tamellm_batch_size_sum"]


def test_errors_are_openai_shaped_and_name_the_problem(live, client):
    import openai

    with pytest.raises(openai.NotFoundError) as caught:
        client.chat.completions.create(model="no-such-model", messages=[{"role": "user", "content": "hi"}])
    assert "no-such-model" in caught.value.body["message"] and caught.value.body["code"] == "model_not_found"

    missing = httpx.post(live.url + "/v1/chat/completions", json={"model": None})
    assert missing.status_code == 422 and missing.json()["error"]["param"] == "messages"
    wrong_type = httpx.post(live.url + "/v1/embeddings", json={"input": 42})
    assert wrong_type.status_code == 422 and "'input" in wrong_type.json()["error"]["message"]
    bad_role = httpx.post(
        live.url + "/v1/chat/completions", json={"messages": [{"role": "robot", "content": "x"}]}
    )
    assert bad_role.status_code == 422 and bad_role.json()["error"]["param"] == "messages.0.role"
    malformed = httpx.post(
        live.url + "/v1/classify", content=b'{"input": [', headers={"content-type": "application/json"}
    )
    assert malformed.status_code == 400 and "Malformed JSON" in malformed.json()["error"]["message"]
    long_text = httpx.post(live.url + "/v1/classify", json={"input": ["ok", "x" * 501]})
    assert long_text.status_code == 413 and long_text.json()["error"]["param"] == "input.1"
    huge_body = httpx.post(
        live.url + "/v1/embeddings",
        content=b"{" + b" " * 30_000 + b"}",
        headers={"content-type": "application/json"},
    )
    assert huge_body.status_code == 413 and huge_body.json()["error"]["code"] == "request_too_large"
    # Without Content-Length (chunked), the bytes are counted as they arrive.
    chunked = httpx.post(
        live.url + "/v1/embeddings",
        content=iter([b'{"input": "', b"x" * 15_000, b"x" * 15_000, b'"}']),
        headers={"content-type": "application/json"},
    )
    assert chunked.status_code == 413 and "20000 bytes" in chunked.json()["error"]["message"]
    empty = httpx.post(live.url + "/v1/ner", json={"input": ["  "]})
    assert empty.status_code == 422 and empty.json()["error"]["param"] == "input.0"
    no_chat = httpx.post(live.url + "/v1/ner", json={"model": model_name(live_gpt2(live)), "input": "x"})
    assert (
        no_chat.status_code == 400
        and "cannot do named-entity recognition" in no_chat.json()["error"]["message"]
    )
    assert httpx.get(live.url + "/v1/nowhere").json()["error"]["code"] == "not_found"
    assert httpx.get(live.url + "/healthz").status_code == 200  # still serving


def live_gpt2(live):
    return next(m.source for m in live.state.pool.models.values() if "generate" in m.tasks)


def test_cut_stream_frees_the_model_for_others(live):
    body = {"messages": [{"role": "user", "content": "Go on forever"}], "max_tokens": 200, "stream": True}
    with httpx.stream("POST", live.url + "/v1/chat/completions", json=body, timeout=30) as response:
        assert response.status_code == 200
        first = next(response.iter_lines())
        assert first.startswith("data: ")
    # The client hung up after one event; everyone else is still served, chat included.
    again = httpx.post(
        live.url + "/v1/chat/completions",
        timeout=30,
        json={"messages": [{"role": "user", "content": "hi"}], "max_tokens": 2},
    )
    assert again.status_code == 200 and again.json()["choices"][0]["message"]["content"] == "the the"
    assert httpx.post(live.url + "/v1/classify", json={"input": "fine"}).status_code == 200


def test_request_ids_health_and_metrics(live):
    answer = httpx.post(
        live.url + "/v1/classify", json={"input": "hello"}, headers={"X-Request-ID": "abc-123"}
    )
    assert answer.headers["x-request-id"] == "abc-123"
    generated = httpx.get(live.url + "/healthz").headers["x-request-id"]
    assert len(generated) == 32
    assert httpx.get(live.url + "/readyz").json()["status"] == "ready"
    text = httpx.get(live.url + "/metrics").text
    assert 'tamellm_requests_total{method="POST",route="/v1/classify",status="200"}' in text
    for name in (
        "tamellm_request_seconds_bucket",
        "tamellm_batch_size_bucket",
        "tamellm_queue_depth",
        "tamellm_generated_tokens_total",
        "tamellm_tokens_per_second",
    ):
        assert name in text
    schema = httpx.get(live.url + "/openapi.json").json()
    assert {"/v1/chat/completions", "/v1/embeddings", "/v1/classify", "/v1/ner", "/v1/explain"} <= set(
        schema["paths"]
    )
    assert json.loads(httpx.get(live.url + "/v1/models").text)["object"] == "list"


def test_docs_page_loads_its_assets_from_this_server(live):
    # Offline first: the Swagger UI page must not reach for a CDN.
    page = httpx.get(live.url + "/docs")
    assert page.status_code == 200
    assets = re.findall(r"""(?:src|href)=['"]([^'"]+\.(?:js|css))['"]""", page.text)
    assert assets and all(a.startswith("/") for a in assets), assets
    for asset in assets:
        assert httpx.get(live.url + asset).status_code == 200
    assert "/openapi.json" in page.text
