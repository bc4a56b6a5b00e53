"""The service with the packaged models (SmolLM2 chat, MiniLM, spaCy NER) and the official openai client."""

from __future__ import annotations

import importlib.util

import httpx
import numpy as np
import pytest
from test_serve_http import LiveServer

import tamellm
from tamellm import api

pytestmark = pytest.mark.integration


def test_packaged_models_through_the_openai_client(persistent_tamellm_home):
    from openai import OpenAI

    app = tamellm.create_app(["smollm2-135m-instruct", "minilm-l6", "spacy-en-sm"])
    with LiveServer(app) as live:
        client = OpenAI(base_url=live.url + "/v1", api_key="unused", max_retries=0, timeout=120)
        assert {m.id for m in client.models.list().data} == {
            "smollm2-135m-instruct",
            "minilm-l6",
            "spacy-en-sm",
        }
        question = [{"role": "user", "content": "What is the capital of France? Answer in one word."}]
        reply = client.chat.completions.create(
            model="smollm2-135m-instruct", messages=question, max_tokens=10
        )
        assert "Paris" in reply.choices[0].message.content
        stream = client.chat.completions.create(
            model="smollm2-135m-instruct", messages=question, max_tokens=10, stream=True
        )
        assert "Paris" in "".join(chunk.choices[0].delta.content or "" for chunk in stream)
        vectors = client.embeddings.create(
            model="minilm-l6",
            input=["a cat sits on the mat", "a kitten rests on a rug", "interest rates rose again"],
        ).data
        v = np.array([d.embedding for d in vectors])
        assert v.shape == (3, 384) and v[0] @ v[1] > v[0] @ v[2]
        topic = httpx.post(
            live.url + "/v1/classify",
            json={
                "model": "minilm-l6",
                "labels": ["sports", "politics"],
                "input": "The striker scored twice in the final",
            },
        )
        assert topic.json()["data"][0]["label"] == "sports"
        people = httpx.post(
            live.url + "/v1/ner", json={"input": "Angela Merkel met the president in Berlin."}
        )
        found = {(e["text"], e["label"]) for e in people.json()["data"][0]["entities"]}
        assert ("Angela Merkel", "PERSON") in found and ("Berlin", "GPE") in found


def _tone(path) -> None:
    """One second of a quiet 220 Hz tone (no speech can be made offline here)."""
    import math
    import struct
    import wave

    rate = 16000
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        samples = (int(800 * math.sin(2 * math.pi * 220 * i / rate)) for i in range(rate))
        out.writeframes(b"".join(struct.pack("<h", s) for s in samples))


@pytest.mark.skipif(importlib.util.find_spec("faster_whisper") is None, reason="faster-whisper not installed")
def test_audio_transcription_route_with_the_openai_client(tmp_path):
    from openai import OpenAI

    wav = tmp_path / "tone.wav"
    _tone(wav)
    with LiveServer(tamellm.create_app(["whisper-tiny-en"])) as live:
        client = OpenAI(base_url=live.url + "/v1", api_key="unused", max_retries=0, timeout=120)
        with open(wav, "rb") as handle:
            result = client.audio.transcriptions.create(model="whisper-tiny-en", file=handle)
        assert result.text == api.transcribe(wav).text
        missing = httpx.post(live.url + "/v1/audio/transcriptions", files={"other": ("a.txt", b"x")})
        assert missing.status_code == 422 and missing.json()["error"]["param"] == "file"
