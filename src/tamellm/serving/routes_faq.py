"""FAQ assistant routes: ask (streaming with ``generate``), list, add and remove entries without a restart.

Served with ``tamellm serve --faq faq/`` (name = the folder's name) or ``--faq bank=faq/``.
Updates are saved to the FAQ folder atomically before they are answered.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from tamellm.apps.faq import FaqAssistant
from tamellm.errors import InputError
from tamellm.serving.deps import authorize, check_texts, get_state
from tamellm.serving.errors import APIError
from tamellm.serving.state import ServerState

router = APIRouter(prefix="/v1/faq", dependencies=[Depends(authorize)], tags=["faq"])


class HistoryMessage(BaseModel):
    role: str = "user"
    content: str


class AskRequest(BaseModel):
    question: str = Field(..., description="The customer's question.")
    history: list[str | HistoryMessage] = Field(default_factory=list,
                                                description="Earlier questions (strings or chat messages).")
    top_k: int = Field(5, ge=1, le=50, description="Answers to return.")
    generate: bool = Field(False, description="Let the chat model rephrase from the retrieved answers, citing ids.")
    stream: bool = Field(False, description="With generate: server-sent events (answers first, then text).")


class Answer(BaseModel):
    id: str
    question: str
    answer: str
    score: float


class AskResponse(BaseModel):
    answers: list[Answer]
    handoff: bool
    reply: str


class EntryIn(BaseModel):
    id: str | None = Field(None, description="New id (default: the next free number).")
    question: str
    answer: str


class AddRequest(BaseModel):
    entries: list[EntryIn] = Field(..., min_length=1)


class RemoveRequest(BaseModel):
    ids: list[str] = Field(..., min_length=1)


def parse_faq_sources(sources: list[str]) -> dict[str, Path]:
    """``NAME=DIR`` or ``DIR`` (named after the folder) -> {name: folder}; a repeated name is an error."""
    out: dict[str, Path] = {}
    for source in sources:
        name, _, path = source.partition("=") if "=" in source else ("", "", source)
        folder = Path(path)
        name = name or folder.resolve().name
        if name in out:
            raise InputError(f"Two FAQs are named '{name}'", "name them: --faq bank=faq1/ --faq cards=faq2/")
        out[name] = folder
    return out


def install(app: FastAPI, sources: list[str]) -> None:
    """Load every FAQ folder and mount the routes on ``app``."""
    app.state.tamellm_faqs = {name: FaqAssistant.load(folder) for name, folder in parse_faq_sources(sources).items()}
    for assistant in app.state.tamellm_faqs.values():
        assistant.warm_up()  # the encoder loads before /readyz says ready, not on the first question
    app.include_router(router)


def _faq(request: Request, name: str) -> FaqAssistant:
    faqs: dict[str, FaqAssistant] = getattr(request.app.state, "tamellm_faqs", {})
    if name not in faqs:
        raise APIError(404, f"No FAQ named '{name}'; served: {', '.join(sorted(faqs)) or 'none'}", "faq_not_found")
    return faqs[name]


@router.get("", summary="The FAQs this server answers from")
async def list_faqs(request: Request) -> dict:
    faqs: dict[str, FaqAssistant] = getattr(request.app.state, "tamellm_faqs", {})
    return {"data": [{"name": name, "entries": len(a), "threshold": a.threshold, "encoder": a.index.encoder}
                     for name, a in faqs.items()]}


@router.post("/{name}/ask", response_model=AskResponse,
             summary="Answer a question from the FAQ (or hand off), citing entry ids; SSE with generate+stream")
async def ask(name: str, body: AskRequest, request: Request, state: ServerState = Depends(get_state)):
    assistant = _faq(request, name)
    check_texts(state, body.question, "question")  # 413 above the server's size limit
    history = [h if isinstance(h, str) else h.model_dump() for h in body.history]
    if body.generate and body.stream:
        result, pieces = await run_in_threadpool(assistant.stream, body.question, history, body.top_k)
        return StreamingResponse(_events(result.to_dict(), pieces), media_type="text/event-stream")
    result = await state.within_timeout(
        run_in_threadpool(assistant.ask, body.question, history, body.top_k, body.generate), "The FAQ answer")
    return result.to_dict()


def _events(head: dict, pieces: Iterator[str]) -> Iterator[str]:
    yield f"data: {json.dumps({k: v for k, v in head.items() if k != 'reply'}, ensure_ascii=False)}\n\n"
    for piece in pieces:
        yield f"data: {json.dumps({'delta': piece}, ensure_ascii=False)}\n\n"
    yield "data: [DONE]\n\n"


@router.get("/{name}/entries", summary="The FAQ's entries")
async def entries(name: str, request: Request) -> dict:
    assistant = _faq(request, name)
    return {"data": [e.to_dict() for e in assistant.index.entries]}


@router.post("/{name}/entries", summary="Add entries (saved atomically; no restart)")
async def add_entries(name: str, body: AddRequest, request: Request) -> dict:
    assistant = _faq(request, name)
    added = await run_in_threadpool(assistant.add, [e.model_dump() for e in body.entries])
    return {"added": added, "entries": len(assistant)}


@router.post("/{name}/entries/remove", summary="Remove entries by id (saved atomically; no restart)")
async def remove_entries(name: str, body: RemoveRequest, request: Request) -> dict:
    assistant = _faq(request, name)
    removed = await run_in_threadpool(assistant.remove, body.ids)
    return {"removed": removed, "entries": len(assistant)}


@router.delete("/{name}/entries/{entry_id}", summary="Remove one entry (saved atomically; no restart)")
async def remove_entry(name: str, entry_id: str, request: Request) -> dict:
    assistant = _faq(request, name)
    removed = await run_in_threadpool(assistant.remove, [entry_id])
    return {"removed": removed, "entries": len(assistant)}
