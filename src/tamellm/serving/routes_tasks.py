"""Task routes: classify, ner (micro-batched), summarize, explain; audio transcription."""

from __future__ import annotations

import asyncio
import os
import tempfile
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any

from fastapi import APIRouter, Depends, Request

from tamellm.explanations import explain as explain_text
from tamellm.serving import schemas as s
from tamellm.serving.deps import authorize, check_texts, get_state
from tamellm.serving.errors import APIError
from tamellm.serving.state import ServerState
from tamellm.tasks import load_for_explanation

router = APIRouter(prefix="/v1", dependencies=[Depends(authorize)], tags=["tasks"])
audio_router = APIRouter(prefix="/v1", dependencies=[Depends(authorize)], tags=["OpenAI-compatible"])


@router.post(
    "/classify",
    response_model=s.ClassifyResponse,
    summary="Classify texts: a fine-tuned classifier's labels, or zero-shot over `labels` (micro-batched)",
)
async def classify(body: s.ClassifyRequest, state: ServerState = Depends(get_state)) -> s.ClassifyResponse:
    tasks = (
        ("zero-shot-classification", "classify") if body.labels else ("classify", "zero-shot-classification")
    )
    served, model = state.pool.get(tasks, body.model, "classification")
    texts = check_texts(state, body.input)
    if model.task == "zero-shot-classification":
        labels = [label.strip() for label in (body.labels or []) if label.strip()]
        if len(labels) < 2:
            raise APIError(
                422,
                f"'labels': model '{served.name}' classifies zero-shot and needs at least two "
                "candidate labels",
                "invalid_value",
                param="labels",
            )
        group = ("zero-shot", tuple(labels), body.multi_label)
        options = {"labels": labels, "multi_label": body.multi_label}
    else:
        group, options = ("classify",), {}

    def run(batch: list[str], opts: dict) -> list:
        return model.predict(batch, **opts)

    batcher = state.batcher(served.name, model.task, run)
    results = await state.within_timeout(batcher.submit(texts, options, group), "The classification")
    data = [
        s.ClassifyItem(index=i, label=r.label, score=r.score, scores=r.scores, labels=r.labels)
        for i, r in enumerate(results)
    ]
    return s.ClassifyResponse(model=served.name, data=data)


@router.post(
    "/predict",
    response_model=s.PredictResponse,
    summary="Run any served model's task on texts; each result as its JSON dict (every registered task)",
)
async def predict(body: s.PredictRequest, state: ServerState = Depends(get_state)) -> s.PredictResponse:
    tasks = (body.task,) if body.task else ()
    served, model = state.pool.get(tasks, body.model, f"task '{body.task}'" if body.task else "predictions")
    texts = check_texts(state, body.input)
    loop = asyncio.get_running_loop()
    results = await state.within_timeout(
        loop.run_in_executor(state.inference, lambda: model.predict(texts)), "The prediction"
    )
    results = results if isinstance(results, list) else [results]
    return s.PredictResponse(model=served.name, task=model.task, data=[r.to_dict() for r in results])


@router.post("/ner", response_model=s.NerResponse, summary="Named entities of texts (micro-batched)")
async def ner(body: s.NerRequest, state: ServerState = Depends(get_state)) -> s.NerResponse:
    served, model = state.pool.get(("ner",), body.model, "named-entity recognition")
    texts = check_texts(state, body.input)

    def run(batch: list[str], opts: dict) -> list:
        return model.predict(batch)

    results = await state.within_timeout(
        state.batcher(served.name, "ner", run).submit(texts), "Entity recognition"
    )
    data = [
        s.NerItem(index=i, entities=[s.EntityOut(**e.to_dict()) for e in r.entities])
        for i, r in enumerate(results)
    ]
    return s.NerResponse(model=served.name, data=data)


@router.post("/summarize", response_model=s.SummarizeResponse, summary="Summarize texts with the chat model")
async def summarize(body: s.SummarizeRequest, state: ServerState = Depends(get_state)) -> s.SummarizeResponse:
    served, model = state.pool.get(("generate",), body.model, "summarization")
    texts = check_texts(state, body.input)
    loop = asyncio.get_running_loop()
    results = await state.within_timeout(
        loop.run_in_executor(state.generation, lambda: model.summarize(texts, max_words=body.max_words)),
        "The summary",
    )
    results = results if isinstance(results, list) else [results]
    for r in results:
        state.metrics.generated(served.name, r.new_tokens, r.seconds)
    return s.SummarizeResponse(
        model=served.name, data=[s.SummaryItem(index=i, summary=r.text) for i, r in enumerate(results)]
    )


@router.post(
    "/explain",
    response_model=s.ExplainResponse,
    summary="Why the model answered what it answered: a score per input word",
)
async def explain(body: s.ExplainRequest, state: ServerState = Depends(get_state)) -> s.ExplainResponse:
    served, _ = state.pool.get(
        ("classify", "zero-shot-classification", "ner", "generate"), body.model, "explanations"
    )
    (text,) = check_texts(state, body.input)
    options = {k: v for k, v in {"method": body.method, "label": body.label, "labels": body.labels,
                                 "all_labels": body.all_labels or None}.items() if v is not None}

    def run() -> Any:
        return explain_text(load_for_explanation(served.source, body.labels), text, **options)

    loop = asyncio.get_running_loop()
    result = await state.within_timeout(
        loop.run_in_executor(state.inference, run),
        "The explanation",
    )
    return s.ExplainResponse(model=served.name, explanation=result.to_dict())


def _audio_file(body: bytes, content_type: str) -> tuple[bytes, str, str | None, str | None]:
    """(file bytes, file name, model, language) from a multipart/form-data body.

    Parsed with the standard library's e-mail parser because python-multipart (FastAPI's
    form parser) is not a dependency of tamellm.
    """
    if not content_type.startswith("multipart/form-data"):
        raise APIError(
            415, "Send the audio as multipart/form-data with a 'file' field", "unsupported_media_type"
        )
    message = BytesParser(policy=HTTP).parsebytes(
        b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body
    )
    fields: dict[str, tuple[bytes, str | None]] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if name:
            fields[str(name)] = (part.get_payload(decode=True) or b"", part.get_filename())
    if "file" not in fields or not fields["file"][0]:
        raise APIError(422, "'file': the audio file is missing", "invalid_value", param="file")
    data, filename = fields["file"]
    text = {k: v[0].decode("utf-8", "replace").strip() for k, v in fields.items() if k != "file"}
    return data, filename or "audio.wav", text.get("model") or None, text.get("language") or None


@audio_router.post("/audio/transcriptions", summary="Transcribe an audio file (multipart/form-data)")
async def transcriptions(request: Request, state: ServerState = Depends(get_state)) -> dict:
    data, filename, model_name, language = _audio_file(
        await request.body(), request.headers.get("content-type", "")
    )
    served, model = state.pool.get(("transcribe",), model_name, "transcription")
    suffix = os.path.splitext(filename)[1][:10] or ".wav"
    with tempfile.TemporaryDirectory(prefix="tamellm-audio-") as folder:
        path = os.path.join(folder, "input" + suffix)
        with open(path, "wb") as handle:
            handle.write(data)
        loop = asyncio.get_running_loop()
        result = await state.within_timeout(
            loop.run_in_executor(state.inference, lambda: model.predict(path, language=language or "en")),
            "The transcription",
        )
    return {"text": result.text, "language": result.language, "segments": result.segments}
