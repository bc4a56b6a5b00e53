"""Recommender routes: ``GET /v1/recommend`` (the loaded recommenders) and ``POST /v1/recommend/{name}``.

Served with ``tamellm serve --recommender rec/`` (name = the folder's name) or
``--recommender movies=rec/``. The answer is the same JSON as
``tamellm recommend for DIR --json``: ``{"user", "items": [{"item", "score", "reasons"}]}``.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Depends, FastAPI, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from tamellm.apps.recommend import Recommender
from tamellm.errors import InputError
from tamellm.serving.deps import authorize, check_texts, get_state
from tamellm.serving.errors import APIError
from tamellm.serving.state import ServerState

router = APIRouter(prefix="/v1/recommend", dependencies=[Depends(authorize)], tags=["recommend"])


class RecommendRequest(BaseModel):
    user: str | int | None = Field(None, description="A user id seen at build time (unknown: popular items).")
    text: str | None = Field(None, description="What a new user likes, in words.")
    k: int = Field(10, ge=1, le=200, description="How many items.")
    reasons: bool = Field(True, description="Explain each item.")


class RecommendedItem(BaseModel):
    item: str
    score: float
    reasons: list[dict]


class RecommendResponse(BaseModel):
    user: str
    items: list[RecommendedItem]


def parse_sources(sources: list[str]) -> dict[str, Path]:
    """``NAME=DIR`` or ``DIR`` (named after the folder) -> {name: folder}; a repeated name is an error."""
    out: dict[str, Path] = {}
    for source in sources:
        name, _, path = source.partition("=") if "=" in source else ("", "", source)
        folder = Path(path)
        name = name or folder.resolve().name
        if name in out:
            raise InputError(f"Two recommenders are named '{name}'",
                             "name them: --recommender movies=rec1/ --recommender books=rec2/")
        out[name] = folder
    return out


def install(app: FastAPI, sources: list[str]) -> None:
    """Load every recommender folder and mount the routes on ``app``."""
    app.state.tamellm_recommenders = {name: Recommender.load(folder)
                                      for name, folder in parse_sources(sources).items()}
    for recommender in app.state.tamellm_recommenders.values():
        recommender.warm_up()  # the encoder loads before /readyz says ready, not on the first request
    app.include_router(router)


def _recommenders(request: Request) -> dict[str, Recommender]:
    return getattr(request.app.state, "tamellm_recommenders", {})


@router.get("", summary="The recommenders this server answers from")
async def list_recommenders(request: Request) -> dict:
    return {"data": [{"name": name, "items": len(r), "users": len(r.users), "encoder": r.model.encoder,
                      "ranker": r.ranker is not None}
                     for name, r in _recommenders(request).items()]}


@router.post("/{name}", response_model=RecommendResponse,
             summary="Recommend k items to a user or to a sentence, each with its reasons")
async def recommend(name: str, body: RecommendRequest, request: Request, state: ServerState = Depends(get_state)):
    recommenders = _recommenders(request)
    if name not in recommenders:
        raise APIError(404, f"No recommender named '{name}'; served: {', '.join(sorted(recommenders)) or 'none'}",
                       "recommender_not_found")
    if body.text:
        check_texts(state, body.text, "text")  # 413 above the server's size limit
    user = None if body.user is None else str(body.user)
    result = await state.within_timeout(
        run_in_threadpool(recommenders[name].recommend, user, body.text, body.k, body.reasons), "The recommendation")
    return result.to_dict()
