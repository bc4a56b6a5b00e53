"""The packaged pretrained models, through the one-line API (real quality, no download).

SmolLM2 is converted from GGUF once per machine into ~/.cache/tamellm (20-45 s); later
runs reload the safetensors copy in a second or two.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess

import pytest

import tamellm
from tamellm.errors import InputError
from tamellm.results import Classification, EntityResult, Generation, Transcription

pytestmark = pytest.mark.integration

HAS_WHISPER = importlib.util.find_spec("faster_whisper") is not None


def test_minilm_zero_shot_picks_the_topic():
    labels = ["sports", "politics", "business"]
    result = tamellm.classify("The striker scored twice in the final", labels=labels)
    assert isinstance(result, Classification)
    assert result.label == "sports"
    assert sum(result.scores.values()) == pytest.approx(1.0, abs=1e-4)


def test_minilm_zero_shot_list():
    texts = ["The central bank raised interest rates again", "Parliament passed the new election law"]
    labels = ["sports", "politics", "business"]
    assert [r.label for r in tamellm.classify(texts, labels=labels)] == ["business", "politics"]


def test_minilm_similarity_ranks_paraphrase_above_unrelated():
    close = tamellm.similarity("a cat sits on the mat", "a kitten rests on a rug")
    far = tamellm.similarity("a cat sits on the mat", "the stock market fell sharply today")
    assert close > far
    assert tamellm.embed("a cat sits on the mat").dim == 384


def test_spacy_finds_people_and_places():
    result = tamellm.ner("Barack Obama visited Paris last spring.")
    assert isinstance(result, EntityResult)
    found = {(e.text, e.label) for e in result.entities}
    assert ("Barack Obama", "PERSON") in found
    assert ("Paris", "GPE") in found
    for e in result.entities:
        assert result.text[e.start : e.end] == e.text


def test_smollm2_answers_the_capital_of_france(persistent_tamellm_home):
    result = tamellm.generate("What is the capital of France?", max_new_tokens=24)
    assert isinstance(result, Generation)
    assert "Paris" in result.text
    assert 1 <= result.new_tokens <= 24
    converted = list((persistent_tamellm_home / "converted").glob("SmolLM2-*/model.safetensors"))
    assert converted, "the GGUF file was converted once into the per-user cache"


def test_smollm2_chat_streams_pieces(persistent_tamellm_home):
    pieces = list(tamellm.chat("Name a colour of the sky.", stream=True, max_new_tokens=16))
    assert len(pieces) >= 2
    assert all(isinstance(p, str) and p for p in pieces)
    assert "".join(pieces).strip()


def test_smollm2_summarize_is_shorter_than_the_input(persistent_tamellm_home):
    text = (
        "The city council met on Tuesday evening to discuss the new public library. After a long debate, "
        "the members agreed to fund the building with a mix of city money and private donations. "
        "Construction will start next spring and should take about two years. The library will have a "
        "children's wing, a cafe and a large reading room with views of the river. Several residents "
        "spoke in favour of the plan, while a few worried about the cost and the traffic it could bring."
    )
    result = tamellm.summarize(text, max_words=25)
    assert isinstance(result, Generation)
    assert result.text.strip()
    assert len(result.text) < len(text)


def _tts() -> str | None:
    return shutil.which("espeak-ng") or shutil.which("espeak")


@pytest.mark.skipif(not HAS_WHISPER, reason="faster-whisper is not installed")
@pytest.mark.skipif(_tts() is None, reason="no offline text-to-speech (espeak-ng) to make a test recording")
def test_whisper_transcribes_speech(tmp_path):
    wav = tmp_path / "hello.wav"
    subprocess.run([_tts(), "-w", str(wav), "Hello world, this is a test."], check=True, timeout=60)
    result = tamellm.transcribe(wav)
    assert isinstance(result, Transcription)
    assert "hello" in result.text.lower()
    assert result.language == "en"


@pytest.mark.skipif(not HAS_WHISPER, reason="faster-whisper is not installed")
def test_whisper_runs_on_a_generated_recording(tmp_path):
    """No speech can be made offline here, so this checks the plumbing on a quiet tone, not the words."""
    import math
    import struct
    import wave

    wav = tmp_path / "tone.wav"
    rate = 16000
    with wave.open(str(wav), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(b"".join(
            struct.pack("<h", int(800 * math.sin(2 * math.pi * 220 * i / rate))) for i in range(rate)
        ))
    result = tamellm.transcribe(wav)
    assert isinstance(result, Transcription)
    assert result.language == "en"
    assert all(0.0 <= s["start"] <= s["end"] for s in result.segments)
    assert json.loads(json.dumps(result.to_dict()))["language"] == "en"
    with pytest.raises(InputError, match="not found"):
        tamellm.transcribe(tmp_path / "missing.wav")
