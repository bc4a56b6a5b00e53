"""Per-request context (pure ASGI, streaming untouched): request id, metrics, one JSON access log line."""

from __future__ import annotations

import logging
import re
import time
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tamellm.serving.logging_json import REQUEST_ID
from tamellm.serving.metrics import Metrics

log = logging.getLogger("tamellm.serving.access")
_VALID_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


class RequestContext:
    """Takes X-Request-ID (or makes one), returns it, times the request, counts it, logs it."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope.get("headers") or []).get(b"x-request-id", b"").decode("latin-1")
        request_id = given if _VALID_ID.match(given) else uuid.uuid4().hex
        token = REQUEST_ID.set(request_id)
        status = 500
        start = time.perf_counter()
        done = False
        self.metrics.in_flight.inc()

        def record() -> None:
            """Count and log the request once: before its last byte is sent, or when it fails."""
            nonlocal done
            if done:
                return
            done = True
            seconds = time.perf_counter() - start
            path = getattr(scope.get("route"), "path", None) or "unmatched"
            self.metrics.in_flight.dec()
            self.metrics.requests.labels(path, scope["method"], str(status)).inc()
            self.metrics.latency.labels(path).observe(seconds)
            state = scope.get("state") or {}
            client = scope.get("client")
            extra = {
                "method": scope["method"],
                "path": scope["path"],
                "status": status,
                "ms": round(seconds * 1000, 2),
                "key": state.get("key_id"),
                "client": client[0] if client else None,
            }
            log.info("%s %s %s", scope["method"], scope["path"], status, extra=extra)

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (b"x-request-id", request_id.encode())]
            elif message["type"] == "http.response.body" and not message.get("more_body", False):
                record()  # before the client has the whole answer: metrics and logs are never behind it
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            record()
            REQUEST_ID.reset(token)
