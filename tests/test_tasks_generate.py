"""Generation, chat and streaming with tiny random GPT-2 models."""

from __future__ import annotations

import threading

import pytest

import tamellm
from tamellm.errors import InputError
from tamellm.results import Generation

QUESTION = "What is the capital of France?"


def _stream_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "tamellm-stream" and t.is_alive()]


def test_generate_respects_max_new_tokens(tiny_gpt2_dir):
    result = tamellm.generate(QUESTION, model=tiny_gpt2_dir, max_new_tokens=5)
    assert isinstance(result, Generation)
    assert result.prompt == QUESTION
    assert result.new_tokens == 5
    assert result.finish_reason == "length"
    assert result.seconds > 0 and result.tokens_per_second > 0


def test_generate_is_greedy_and_deterministic_by_default(tiny_gpt2_dir):
    first = tamellm.generate(QUESTION, model=tiny_gpt2_dir, max_new_tokens=8)
    second = tamellm.generate(QUESTION, model=tiny_gpt2_dir, max_new_tokens=8)
    assert first.text == second.text


def test_a_near_zero_temperature_answers_greedily(tiny_gpt2_dir):
    greedy = tamellm.generate(QUESTION, model=tiny_gpt2_dir, max_new_tokens=8)
    for temperature in (1e-9, 1e-4):
        assert tamellm.generate(QUESTION, model=tiny_gpt2_dir, max_new_tokens=8,
                                temperature=temperature).text == greedy.text


def test_sampling_is_reproducible_with_a_seed(tiny_gpt2_dir):
    options = {"model": tiny_gpt2_dir, "max_new_tokens": 12, "temperature": 1.5}
    a = tamellm.generate(QUESTION, seed=7, **options)
    b = tamellm.generate(QUESTION, seed=7, **options)
    assert a.text == b.text and a.new_tokens == b.new_tokens


def test_generate_list_gives_list_and_system_prompt_is_used(tiny_gpt2_dir):
    results = tamellm.generate([QUESTION, "Hello"], model=tiny_gpt2_dir, max_new_tokens=3)
    assert [r.prompt for r in results] == [QUESTION, "Hello"]
    with_system = tamellm.generate(QUESTION, model=tiny_gpt2_dir, max_new_tokens=3, system="Be brief.")
    assert with_system.prompt == QUESTION and with_system.new_tokens == 3


def test_answer_that_ends_with_eos_finishes_with_stop(tiny_gpt2_eos_dir):
    result = tamellm.chat(QUESTION, model=tiny_gpt2_eos_dir, max_new_tokens=10)
    assert result.finish_reason == "stop"
    assert result.new_tokens == 1
    assert result.text == ""  # the end token is not shown
    assert list(tamellm.chat(QUESTION, model=tiny_gpt2_eos_dir, stream=True, max_new_tokens=10)) == []


def test_eos_exactly_at_the_limit_is_still_a_stop(tiny_gpt2_eos_dir):
    assert tamellm.chat(QUESTION, model=tiny_gpt2_eos_dir, max_new_tokens=1).finish_reason == "stop"


def test_word_by_word_answer_and_its_stream(tiny_gpt2_the_dir):
    answer = tamellm.chat(QUESTION, model=tiny_gpt2_the_dir, max_new_tokens=6)
    assert answer.text == "the the the the the the"
    assert (answer.new_tokens, answer.finish_reason) == (6, "length")
    pieces = list(tamellm.chat(QUESTION, model=tiny_gpt2_the_dir, stream=True, max_new_tokens=6))
    assert len(pieces) > 1 and all(isinstance(p, str) and p for p in pieces)
    assert "".join(pieces).strip() == answer.text


@pytest.mark.parametrize("max_new_tokens", [1, 7, 20])
def test_stream_concatenates_to_the_greedy_answer(tiny_gpt2_dir, max_new_tokens):
    messages = [{"role": "system", "content": "You are terse."}, {"role": "user", "content": QUESTION}]
    answer = tamellm.chat(messages, model=tiny_gpt2_dir, max_new_tokens=max_new_tokens)
    pieces = list(tamellm.chat(messages, model=tiny_gpt2_dir, stream=True, max_new_tokens=max_new_tokens))
    assert "".join(pieces).strip() == answer.text
    assert answer.new_tokens == max_new_tokens


def test_closing_a_stream_early_stops_generation(tiny_gpt2_the_dir):
    model = tamellm.load(tiny_gpt2_the_dir)
    steps = []
    hook = model.model.register_forward_hook(lambda *args: steps.append(1))
    try:
        stream = tamellm.chat(QUESTION, model=tiny_gpt2_the_dir, stream=True, max_new_tokens=200)
        try:
            assert "the" in next(stream) + next(stream)
        finally:
            stream.close()
    finally:
        hook.remove()
    assert _stream_threads() == []
    assert len(steps) < 100  # 200 were allowed; the worker stopped soon after the close


@pytest.mark.timeout(120)
def test_an_error_inside_streaming_is_raised_not_hung(tiny_gpt2_dir):
    model = tamellm.load(tiny_gpt2_dir)

    def fail(*args):
        raise RuntimeError("boom inside generate")

    hook = model.model.register_forward_hook(fail)
    try:
        stream = tamellm.chat(QUESTION, model=tiny_gpt2_dir, stream=True, max_new_tokens=5)
        with pytest.raises(RuntimeError, match="boom inside generate"):
            list(stream)
    finally:
        hook.remove()
    assert _stream_threads() == []


def test_answer_is_cut_at_the_end_of_the_context(tiny_gpt2_dir):
    model = tamellm.load(tiny_gpt2_dir)
    context = model.model.config.max_position_embeddings
    prompt_len = model._prompt_ids([{"role": "user", "content": QUESTION}])["input_ids"].shape[1]
    result = tamellm.generate(QUESTION, model=tiny_gpt2_dir, max_new_tokens=context * 2)
    assert result.new_tokens == context - prompt_len
    assert result.finish_reason == "length"


def test_prompt_longer_than_the_context_is_an_input_error(tiny_gpt2_dir):
    long = " ".join(["capital"] * 400)
    with pytest.raises(InputError, match="reads at most 256"):
        tamellm.generate(long, model=tiny_gpt2_dir, max_new_tokens=2)
    with pytest.raises(InputError, match="reads at most 256"):
        tamellm.chat(long, model=tiny_gpt2_dir, stream=True, max_new_tokens=2)  # raised before iterating


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize(
    ("messages", "options", "message"),
    [
        ([{"role": "bot", "content": "hi"}], {}, "has role 'bot'"),
        ([], {}, "No messages given"),
        (["hi"], {}, "is not a {'role', 'content'} dict"),
        ([{"role": "user", "content": None}], {}, "content of type NoneType"),
        ([{"role": "user", "content": "  "}], {}, "no user message with text"),
        ([{"role": "system", "content": "Be nice."}], {}, "no user message with text"),
        ("hi", {"max_new_tokens": 0}, "max_new_tokens must be a whole number of at least 1, got 0"),
        ("hi", {"max_new_tokens": 2.5}, "max_new_tokens must be a whole number"),
    ],
)
def test_bad_chat_input_raises_at_once(tiny_gpt2_dir, messages, options, message, stream):
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace("{", r"\{")) as err:
        tamellm.chat(messages, model=tiny_gpt2_dir, stream=stream, **options)
    assert err.value.exit_code == 2


def test_bad_role_hint_lists_the_accepted_roles(tiny_gpt2_dir):
    with pytest.raises(InputError) as err:
        tamellm.chat([{"role": "bot", "content": "hi"}], model=tiny_gpt2_dir)
    assert err.value.hint == "accepted roles: system, user, assistant"


@pytest.mark.parametrize(("prompt", "message"), [("", "Empty prompt"), (["ok", ""], "Empty prompt #2")])
def test_generate_rejects_empty_prompts(tiny_gpt2_dir, prompt, message):
    with pytest.raises(InputError, match=message):
        tamellm.generate(prompt, model=tiny_gpt2_dir)


def test_summarize_text_and_list(tiny_gpt2_the_dir):
    text = "The meeting covered the budget, the hiring plan and the office move. " * 3
    one = tamellm.summarize(text, model=tiny_gpt2_the_dir, max_words=10)
    assert isinstance(one, Generation)
    assert one.new_tokens == 32  # at least 32 new tokens are allowed, and this model never stops
    assert one.prompt.startswith("Summarize the following text in at most 10 words")
    assert one.prompt.endswith(text.strip())
    many = tamellm.summarize([text, "Short note about lunch."], model=tiny_gpt2_the_dir, max_words=10)
    assert [m.prompt.rsplit("\n\n", 1)[1] for m in many] == [text.strip(), "Short note about lunch."]
    with pytest.raises(InputError, match="Empty text"):
        tamellm.summarize("  ", model=tiny_gpt2_the_dir)


def test_model_without_chat_template_joins_the_turns(tiny_gpt2_dir, tmp_path):
    import json
    import shutil

    folder = shutil.copytree(tiny_gpt2_dir, tmp_path / "base-gpt2")
    (folder / "chat_template.jinja").unlink(missing_ok=True)
    config = json.loads((folder / "tokenizer_config.json").read_text())
    config.pop("chat_template", None)
    (folder / "tokenizer_config.json").write_text(json.dumps(config))

    model = tamellm.load(folder)
    assert not getattr(model.tokenizer, "chat_template", None)
    messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": QUESTION}]
    ids = model._prompt_ids(messages)["input_ids"][0].tolist()
    assert ids == model.tokenizer(f"Be brief.\n{QUESTION}")["input_ids"]
    result = tamellm.chat(messages, model=folder, max_new_tokens=4)
    assert result.new_tokens == 4 and result.prompt == QUESTION


def test_setting_cancel_stops_a_chat_at_the_next_token(tiny_gpt2_the_dir):
    import threading

    model = tamellm.load(tiny_gpt2_the_dir)
    messages = [{"role": "user", "content": QUESTION}]
    assert model.chat(messages, max_new_tokens=40).new_tokens == 40  # this model never stops by itself
    cancel = threading.Event()
    cancel.set()  # as the server does when the request's deadline has passed
    assert model.chat(messages, max_new_tokens=40, cancel=cancel).new_tokens == 1
    assert len(model.predict([QUESTION, "Hi"], max_new_tokens=40, cancel=cancel)) == 2
