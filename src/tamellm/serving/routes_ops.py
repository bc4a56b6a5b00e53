"""Operations routes: liveness, readiness, Prometheus metrics."""

from __future__ import annotations

import os

from fastapi import APIRouter, Depends, Response
from fastapi.responses import JSONResponse

from tamellm.serving.deps import get_state
from tamellm.serving.state import ServerState

router = APIRouter(tags=["operations"])


@router.get("/healthz", summary="Liveness: the process answers")
async def healthz() -> dict:
    return {"status": "ok", "pid": os.getpid()}


@router.get("/readyz", summary="Readiness: models loaded and not shutting down (503 otherwise)")
async def readyz(state: ServerState = Depends(get_state)) -> JSONResponse:
    body = {"status": "ready" if state.ready else "not ready", "models": list(state.pool.models)}
    return JSONResponse(body, status_code=200 if state.ready else 503)


@router.get(
    "/metrics",
    summary="Prometheus metrics (text exposition format)",
    responses={200: {"content": {"text/plain": {}}}},
)
async def metrics(state: ServerState = Depends(get_state)) -> Response:
    return Response(state.metrics.render(), media_type=state.metrics.content_type)
