"""The OpenAI-compatible routes: models, chat (with streaming), completions, embeddings."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator

import numpy as np
from fastapi import APIRouter, Depends
from fastapi.responses import StreamingResponse

from tamellm.serving import schemas as s
from tamellm.serving.deps import authorize, check_texts, get_state
from tamellm.serving.errors import APIError
from tamellm.serving.redact import redact
from tamellm.serving.state import ServerState

log = logging.getLogger("tamellm.serving")
router = APIRouter(prefix="/v1", dependencies=[Depends(authorize)], tags=["OpenAI-compatible"])
DEFAULT_MAX_TOKENS = 256


def _count_tokens(model, texts: list[str]) -> int:
    """Prompt tokens as the model's tokenizer counts them (the chat template's markers aside).

    One batched call: a fast tokenizer encodes the list in Rust, not text by text in Python.
    """
    return sum(len(ids) for ids in model.tokenizer(texts, add_special_tokens=False)["input_ids"])


def _stop(stop: str | list[str] | None) -> dict:
    """The generator's ``stop`` option, only when the request has stop sequences."""
    return {"stop": stop} if stop else {}


@router.get("/models", response_model=s.ModelList, summary="The models this server serves")
async def list_models(state: ServerState = Depends(get_state)) -> s.ModelList:
    cards = [
        s.ModelCard(id=m.name, created=state.created, tasks=list(m.tasks)) for m in state.pool.models.values()
    ]
    return s.ModelList(data=cards)


def _messages(state: ServerState, body: s.ChatRequest) -> list[dict[str, str]]:
    messages = [m.model_dump() for m in body.messages]
    limit = state.settings.max_input_chars
    total = sum(len(m["content"]) for m in messages)
    if total > limit:
        raise APIError(
            413,
            f"'messages' hold {total} characters; the limit is {limit}",
            "input_too_large",
            param="messages",
        )
    if state.settings.redact_inputs:
        messages = [{**m, "content": redact(m["content"])} for m in messages]
    return messages


@router.post(
    "/chat/completions",
    response_model=s.ChatCompletion,
    summary="Chat; `stream: true` sends SSE",
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def chat_completions(body: s.ChatRequest, state: ServerState = Depends(get_state)):
    served, model = state.pool.get(("generate",), body.model, "chat")
    messages = _messages(state, body)
    options = {
        "max_new_tokens": body.max_completion_tokens or body.max_tokens or DEFAULT_MAX_TOKENS,
        "temperature": body.temperature,
        "top_p": body.top_p,
        "seed": body.seed,
        **_stop(body.stop),
    }
    loop = asyncio.get_running_loop()
    created, completion_id = int(time.time()), f"chatcmpl-{uuid.uuid4().hex[:24]}"
    if body.stream:
        # Starting the stream checks the input (400 before any byte is sent) and starts generating.
        pieces = await state.within_timeout(
            loop.run_in_executor(state.generation, lambda: model.stream(messages, **options)),
            "Starting the chat",
        )
        return StreamingResponse(
            _sse(state, served.name, pieces, completion_id, created),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache"},
        )
    cancel = threading.Event()
    result = await state.within_timeout(
        loop.run_in_executor(state.generation, lambda: model.chat(messages, cancel=cancel, **options)),
        "The chat", cancel,
    )
    state.metrics.generated(served.name, result.new_tokens, result.seconds)
    prompt_tokens = _count_tokens(model, [m["content"] for m in messages])
    return s.ChatCompletion(
        id=completion_id,
        created=created,
        model=served.name,
        choices=[
            s.ChatChoice(
                index=0,
                message=s.ChatMessage(role="assistant", content=result.text),
                finish_reason=result.finish_reason,
            )
        ],
        usage=s.Usage(
            prompt_tokens=prompt_tokens,
            completion_tokens=result.new_tokens,
            total_tokens=prompt_tokens + result.new_tokens,
        ),
    )


async def _relay(state: ServerState, pieces: Iterator[str]) -> AsyncIterator[str]:
    """Pieces of a (blocking) generator iterator, read in the generation thread.

    When the client hangs up, this async generator is closed: the flag stops the reading
    thread, which closes the model's iterator, which stops the generation.
    """
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[tuple[str, object]] = asyncio.Queue()
    stop = threading.Event()

    def pump() -> None:
        try:
            for piece in pieces:
                loop.call_soon_threadsafe(queue.put_nowait, ("piece", piece))
                if stop.is_set():
                    break
        except Exception as exc:  # noqa: BLE001 - handed to the response below
            loop.call_soon_threadsafe(queue.put_nowait, ("error", exc))
        finally:
            pieces.close()  # type: ignore[attr-defined]
            loop.call_soon_threadsafe(queue.put_nowait, ("end", None))

    loop.run_in_executor(state.generation, pump)
    try:
        while True:
            kind, value = await queue.get()
            if kind == "end":
                return
            if kind == "error":
                raise value  # type: ignore[misc]
            yield value  # type: ignore[misc]
    finally:
        stop.set()


async def _sse(
    state: ServerState, model: str, pieces: Iterator[str], completion_id: str, created: int
) -> AsyncIterator[str]:
    """OpenAI chat.completion.chunk events, then ``data: [DONE]``."""

    def event(delta: dict, finish: str | None) -> str:
        chunk = {
            "id": completion_id,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        }
        return f"data: {json.dumps(chunk, ensure_ascii=False)}\n\n"

    yield event({"role": "assistant", "content": ""}, None)
    count, start = 0, time.perf_counter()
    try:
        async for piece in _relay(state, pieces):
            count += 1
            yield event({"content": piece}, None)
    except Exception as exc:  # noqa: BLE001 - the status is already sent: report in the stream
        log.error("stream failed: %s: %s", type(exc).__name__, exc)
        error = {
            "error": {
                "message": f"Generation failed: {exc}",
                "type": "server_error",
                "param": None,
                "code": "generation_failed",
            }
        }
        yield f"data: {json.dumps(error)}\n\n"
        return
    state.metrics.generated(model, count, time.perf_counter() - start)  # pieces ~ tokens
    yield event({}, "stop")
    yield "data: [DONE]\n\n"


@router.post(
    "/completions", response_model=s.Completion, summary="Complete prompts (each answered as a user turn)"
)
async def completions(body: s.CompletionRequest, state: ServerState = Depends(get_state)) -> s.Completion:
    served, model = state.pool.get(("generate",), body.model, "completions")
    prompts = check_texts(state, body.prompt, "prompt")
    options = {
        "max_new_tokens": body.max_tokens,
        "temperature": body.temperature,
        "top_p": body.top_p,
        "seed": body.seed,
        **_stop(body.stop),
    }
    loop = asyncio.get_running_loop()
    cancel = threading.Event()
    results = await state.within_timeout(
        loop.run_in_executor(state.generation, lambda: model.predict(prompts, cancel=cancel, **options)),
        "The completion", cancel,
    )
    for r in results:
        state.metrics.generated(served.name, r.new_tokens, r.seconds)
    prompt_tokens = _count_tokens(model, prompts)
    completion_tokens = sum(r.new_tokens for r in results)
    return s.Completion(
        id=f"cmpl-{uuid.uuid4().hex[:24]}",
        created=int(time.time()),
        model=served.name,
        choices=[
            s.CompletionChoice(index=i, text=r.text, finish_reason=r.finish_reason)
            for i, r in enumerate(results)
        ],
        usage=s.Usage(
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            total_tokens=prompt_tokens + completion_tokens,
        ),
    )


@router.post("/embeddings", response_model=s.EmbeddingList, summary="Embed texts (micro-batched)")
async def embeddings(body: s.EmbeddingRequest, state: ServerState = Depends(get_state)) -> s.EmbeddingList:
    served, model = state.pool.get(("embed",), body.model, "embeddings")
    texts = check_texts(state, body.input)

    def run(batch: list[str], options: dict) -> list[tuple[np.ndarray, int]]:
        # The usage counts are taken here, for the whole micro-batch at once and off the event loop.
        counts = [len(ids) for ids in model.tokenizer(batch, add_special_tokens=False)["input_ids"]]
        return list(zip(model.predict(batch).vectors, counts, strict=True))

    batcher = state.batcher(served.name, "embed", run)
    results = await state.within_timeout(batcher.submit(texts), "The embedding")
    if body.encoding_format == "base64":
        data = [base64.b64encode(np.asarray(v, dtype="<f4").tobytes()).decode() for v, _ in results]
    else:
        data = [np.asarray(v, dtype=np.float32).tolist() for v, _ in results]
    tokens = sum(n for _, n in results)
    return s.EmbeddingList(
        data=[s.EmbeddingItem(index=i, embedding=v) for i, v in enumerate(data)],
        model=served.name,
        usage=s.Usage(prompt_tokens=tokens, total_tokens=tokens),
    )
