"""What every /v1 route checks first: the API key, the rate limit, the size of the inputs."""

from __future__ import annotations

import math

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from tamellm.serving.errors import APIError
from tamellm.serving.redact import redact
from tamellm.serving.schemas import MAX_ITEMS
from tamellm.serving.state import ServerState

_bearer = HTTPBearer(auto_error=False, description="an API key of the server (when it has any)")


async def get_state(request: Request) -> ServerState:
    """The server state of this app (async: a plain def would cost every request a thread-pool hop)."""
    return request.app.state.tamellm


async def authorize(
    request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)
) -> str:
    """Check ``Authorization: Bearer KEY`` (when keys are configured) and the per-key rate limit."""
    state: ServerState = request.app.state.tamellm
    if state.keys:
        if credentials is None:
            raise APIError(
                401,
                "Missing API key: send 'Authorization: Bearer YOUR_KEY'",
                "missing_api_key",
                headers={"WWW-Authenticate": "Bearer"},
            )
        key_id = state.keys.check(credentials.credentials)
        if key_id is None:
            raise APIError(401, "Invalid API key", "invalid_api_key", headers={"WWW-Authenticate": "Bearer"})
    else:
        key_id = f"anonymous@{request.client.host if request.client else '-'}"
    wait = state.limiter.take(key_id)
    if wait > 0:
        state.metrics.rejected.labels("rate_limit").inc()
        retry = max(1, math.ceil(wait))
        raise APIError(
            429,
            f"Rate limit of {state.limiter.per_minute} requests per minute reached for this key; "
            f"retry after {retry} s",
            "rate_limit_exceeded",
            headers={"Retry-After": str(retry)},
        )
    request.state.key_id = key_id
    return key_id


def check_texts(state: ServerState, texts: str | list[str], field: str = "input") -> list[str]:
    """The texts of a request as a list: 413 when one is over the size limit; redacted when asked."""
    items = [texts] if isinstance(texts, str) else list(texts)
    if not items:
        raise APIError(
            422, f"'{field}' is an empty list; send at least one text", "invalid_value", param=field
        )
    if len(items) > MAX_ITEMS:
        raise APIError(
            413,
            f"'{field}' has {len(items)} texts; the limit is {MAX_ITEMS} per request",
            "request_too_large",
            param=field,
        )
    limit = state.settings.max_input_chars
    for i, text in enumerate(items):
        if len(text) > limit:
            where = field if isinstance(texts, str) else f"{field}.{i}"
            state.metrics.rejected.labels("too_large").inc()
            raise APIError(
                413,
                f"'{where}' is {len(text)} characters long; the limit is {limit}",
                "input_too_large",
                param=where,
            )
        if not text.strip():
            where = field if isinstance(texts, str) else f"{field}.{i}"
            raise APIError(422, f"'{where}' is empty; send text", "invalid_value", param=where)
    return [redact(t) for t in items] if state.settings.redact_inputs else items
