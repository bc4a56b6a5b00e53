"""One behaviour suite run against every generation backend, on the packaged SmolLM2-135M-Instruct.

Streaming, stop sequences, cancellation, greedy / temperature / top-p and the chat
template must behave the same whichever engine runs the model: transformers,
onnxruntime-genai (the default), CTranslate2 and llama.cpp (when ``make llama`` installed it).
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
    "ctranslate2",
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
    matches = generator.chat(COUNT, max_new_tokens=12).text.split()[:6] == reference.split()[:6]
    if not matches and generator.info().get("backend") == "ctranslate2":
        # Its int8 weights (symmetric, per channel) change this answer: "This is a classic example of a ...".
        pytest.xfail("ctranslate2 int8 answers this prompt differently from the fp32 weights")
    assert matches


def test_stream_pieces_join_to_the_chat_answer(generator):
    pieces = list(generator.stream(COUNT, max_new_tokens=16))
    assert len(pieces) > 1
    assert "".join(pieces).strip() == generator.chat(COUNT, max_new_tokens=16).text


def test_stop_sequence_ends_the_answer_before_it(generator):
    full = generator.chat(COUNT, max_new_tokens=16).text
    stop = full.split()[2]  # a word of this backend's own answer
    cut = generator.chat(COUNT, max_new_tokens=16, stop=[stop, "never-said"])
    assert cut.text == full[:full.index(stop)].strip() and cut.finish_reason == "stop"
    assert "".join(generator.stream(COUNT, max_new_tokens=16, stop=stop)).strip() == cut.text


def test_a_set_cancel_flag_stops_at_the_next_token(generator):
    cancel = threading.Event()
    cancel.set()
    result = generator.chat(COUNT, max_new_tokens=200, cancel=cancel)
    assert result.new_tokens <= 2


def test_cancel_set_mid_answer_stops_it_there(generator):
    """As the server does when a request's timeout passes: the flag is set from another thread."""
    story = [{"role": "user", "content": "Write a long story, at least 300 words, about a dragon who learns to paint."}]
    cancel = threading.Event()
    timer = threading.Timer(0.5, cancel.set)
    timer.start()
    try:
        result = generator.chat(story, max_new_tokens=1500, cancel=cancel)
    finally:
        timer.cancel()
    # Uncancelled, the story ends with an end token ("stop") or at the 1500-token cap: either fails here.
    assert cancel.is_set() and 0 < result.new_tokens < 1500 and result.finish_reason == "length"


def test_temperature_samples_other_answers_than_greedy(generator):
    greedy = generator.chat(PARIS, max_new_tokens=16).text
    sampled = {generator.chat(PARIS, max_new_tokens=16, temperature=1.5, top_p=1.0, seed=s).text for s in range(4)}
    assert sampled - {greedy}, "temperature 1.5 gave the greedy answer for every seed"


def test_closing_the_stream_early_stops_generation(generator):
    stream = generator.stream(COUNT, max_new_tokens=200)
    next(stream)
    stream.close()  # a client that hung up: nothing keeps decoding (the next call runs at once)
    assert generator.chat(COUNT, max_new_tokens=3).new_tokens == 3


def test_a_tiny_top_p_samples_the_greedy_answer(generator):
    greedy = generator.chat(PARIS, max_new_tokens=16).text
    assert generator.chat(PARIS, max_new_tokens=16, temperature=1.2, seed=5, top_p=1e-6).text == greedy


def test_sampling_is_reproducible_with_a_seed(generator):
    if generator.info().get("backend") == "ctranslate2":
        # Its random generators live in its own worker threads: set_random_seed does not reach them.
        pytest.xfail("ctranslate2 does not repeat a seeded sample")
    options = {"max_new_tokens": 16, "temperature": 1.2}
    assert generator.chat(PARIS, seed=5, **options).text == generator.chat(PARIS, seed=5, **options).text


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
