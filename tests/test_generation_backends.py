"""One behaviour suite run against every generation backend, on the packaged SmolLM2-135M-Instruct.

Streaming, stop sequences, cancellation, greedy / temperature / top-p and the chat
template must behave the same whichever engine runs the model: transformers,
onnxruntime-genai (the default) and llama.cpp (when ``make llama`` installed it).
"""

from __future__ import annotations

import importlib.util
import threading

import pytest

import tamellm
from tamellm.errors import InputError
from tamellm.results import Generation
from tamellm.tasks import BackendNotApplicable
from tamellm.tasks.generate import Generator, StopText
from tamellm.tasks.ort_genai import GenaiGenerator

MODEL = "smollm2-135m-instruct"
BACKENDS = [
    "transformers",
    "onnxruntime-genai",
    pytest.param("llama.cpp", marks=pytest.mark.skipif(not importlib.util.find_spec("llama_cpp"),
                                                       reason="llama-cpp-python not installed (make llama)")),
]
COUNT = [{"role": "user", "content": "Count from 1 to 10, one number per line."}]
PARIS = [{"role": "user", "content": "What is the capital of France?"}]


@pytest.fixture(params=BACKENDS)
def generator(request, persistent_tamellm_home):
    return tamellm.load(MODEL, backend=request.param)


def test_default_engine_is_onnxruntime_genai_and_transformers_stays_reachable(persistent_tamellm_home):
    fast = tamellm.load(MODEL)
    slow = tamellm.load(MODEL, backend="transformers")
    assert isinstance(fast, GenaiGenerator) and fast.info()["backend"] == "onnxruntime-genai"
    assert type(slow) is Generator
    for model in (fast, slow):
        result = model.predict("Say hello.", max_new_tokens=4)
        assert isinstance(result, Generation) and result.new_tokens == 4 and result.tokens_per_second > 0


def test_greedy_is_deterministic_and_stops_at_max_new_tokens(generator):
    first = generator.chat(COUNT, max_new_tokens=6)
    second = generator.chat(COUNT, max_new_tokens=6)
    assert first.new_tokens == 6 and first.finish_reason == "length"
    assert first.text == second.text and first.text


def test_chat_template_gives_a_real_answer(generator):
    answer = generator.chat(PARIS, max_new_tokens=12)
    assert "Paris" in answer.text


def test_greedy_answer_matches_transformers_at_the_start(generator, persistent_tamellm_home):
    reference = tamellm.load(MODEL, backend="transformers").chat(COUNT, max_new_tokens=12).text
    assert generator.chat(COUNT, max_new_tokens=12).text.split()[:6] == reference.split()[:6]


def test_stream_pieces_join_to_the_chat_answer(generator):
    pieces = list(generator.stream(COUNT, max_new_tokens=16))
    assert len(pieces) > 1
    assert "".join(pieces).strip() == generator.chat(COUNT, max_new_tokens=16).text


def test_stop_sequence_ends_the_answer_before_it(generator):
    full = generator.chat(COUNT, max_new_tokens=16).text
    assert "3" in full
    cut = generator.chat(COUNT, max_new_tokens=16, stop=["3", "never-said"])
    assert cut.text == full[:full.index("3")].strip() and cut.finish_reason == "stop"
    assert "".join(generator.stream(COUNT, max_new_tokens=16, stop="3")).strip() == cut.text


def test_a_set_cancel_flag_stops_at_the_next_token(generator):
    cancel = threading.Event()
    cancel.set()
    result = generator.chat(COUNT, max_new_tokens=200, cancel=cancel)
    assert result.new_tokens <= 2


def test_closing_the_stream_early_stops_generation(generator):
    stream = generator.stream(COUNT, max_new_tokens=200)
    next(stream)
    stream.close()  # a client that hung up: nothing keeps decoding (the next call runs at once)
    assert generator.chat(COUNT, max_new_tokens=3).new_tokens == 3


def test_sampling_is_seeded_and_a_tiny_top_p_is_greedy(generator):
    options = {"max_new_tokens": 16, "temperature": 1.2}
    a = generator.chat(PARIS, seed=5, **options)
    b = generator.chat(PARIS, seed=5, **options)
    assert a.text == b.text
    greedy = generator.chat(PARIS, max_new_tokens=16).text
    assert generator.chat(PARIS, seed=5, top_p=1e-6, **options).text == greedy


def test_bad_stop_is_refused(generator):
    with pytest.raises(InputError, match="stop must be"):
        generator.chat(COUNT, max_new_tokens=2, stop=[3])


def test_stop_text_holds_back_what_may_start_a_stop_sequence():
    cut = StopText(["END"])
    assert cut.feed("abc E") == "abc "
    assert cut.feed("N") == ""
    assert cut.feed("x") == "ENx"
    assert cut.feed(" fin EN") == " fin "
    assert cut.feed("D more") == "" and cut.stopped and cut.shown() == "abc ENx fin "


def test_a_model_the_engine_cannot_build_stays_on_transformers(tiny_gpt2_dir):
    assert type(tamellm.load(tiny_gpt2_dir)) is Generator  # GPT-2: not a Llama/Qwen architecture
    with pytest.raises(BackendNotApplicable, match="onnxruntime-genai"):
        tamellm.load(tiny_gpt2_dir, backend="onnxruntime-genai")
