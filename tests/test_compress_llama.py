"""The llama.cpp generation backend (optional: skipped where llama-cpp-python is not installed)."""

from __future__ import annotations

import importlib.util

import pytest

import tamellm
from tamellm.errors import InputError, MissingExtraError

HAS_LLAMA = importlib.util.find_spec("llama_cpp") is not None
MODEL = "smollm2-135m-instruct"


def test_unknown_backend_lists_the_accepted_ones(tiny_gpt2_dir, monkeypatch):
    with pytest.raises(InputError, match=r"accepted: transformers, .*llama\.cpp"):
        tamellm.load(tiny_gpt2_dir, backend="vllm")
    monkeypatch.setenv("TAMELLM_GENERATION_BACKEND", "llamacpp")
    with pytest.raises(InputError, match="TAMELLM_GENERATION_BACKEND"):
        tamellm.load(tiny_gpt2_dir)


def test_llama_backend_refuses_a_model_it_cannot_run(tiny_classifier_dir, tiny_gpt2_dir, monkeypatch):
    with pytest.raises(InputError, match="runs GGUF generation models"):
        tamellm.load(tiny_classifier_dir, backend="llama.cpp")
    with pytest.raises(InputError, match="runs GGUF generation models"):
        tamellm.load(tiny_gpt2_dir, backend="llama.cpp")  # safetensors, not GGUF
    # The environment variable only applies where it can: other models load as before.
    monkeypatch.setenv("TAMELLM_GENERATION_BACKEND", "llama.cpp")
    generator = tamellm.load(tiny_gpt2_dir)
    assert "backend" not in generator.info()
    assert generator.predict("hello", max_new_tokens=2).new_tokens <= 2


@pytest.mark.integration
@pytest.mark.skipif(HAS_LLAMA, reason="llama-cpp-python is installed")
def test_missing_llama_cpp_names_the_package():
    with pytest.raises(MissingExtraError, match="llama-cpp-python"):
        tamellm.load(MODEL, backend="llama.cpp")


@pytest.mark.integration
@pytest.mark.skipif(not HAS_LLAMA, reason="llama-cpp-python is not installed (make llama builds it)")
def test_llama_backend_chats_greedily_and_streams_the_same_text():
    generator = tamellm.load(MODEL, backend="llama.cpp")
    assert generator.info()["backend"] == "llama.cpp"
    question = "What is the capital of France? Answer in one word."
    first = generator.predict(question, max_new_tokens=16)
    again = tamellm.load(MODEL, backend="llama.cpp").predict(question, max_new_tokens=16)
    assert "paris" in first.text.lower()
    assert first.text == again.text and 0 < first.new_tokens <= 16  # greedy: deterministic
    streamed = "".join(generator.stream([{"role": "user", "content": question}], max_new_tokens=16))
    assert streamed.strip() == first.text
    short = generator.predict("Tell me a long story about a dragon.", max_new_tokens=5)
    assert short.new_tokens == 5 and short.finish_reason == "length"
    with pytest.raises(InputError, match="max_new_tokens"):
        generator.predict("hi", max_new_tokens=0)
