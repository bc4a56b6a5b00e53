"""HTTP errors in the OpenAI shape: ``{"error": {"message", "type", "param", "code"}}``."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from tamellm.errors import InputError, MissingExtraError, ModelFormatError, ModelNotFoundError, TamellmError

log = logging.getLogger("tamellm.serving")

# The OpenAI error "type" for each status.
ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    404: "not_found_error",
    413: "invalid_request_error",
    422: "invalid_request_error",
    429: "rate_limit_error",
    501: "not_implemented_error",
    503: "server_error",
    504: "timeout_error",
}
# How each tamellm error kind maps to a status.
TAMELLM_STATUS: list[tuple[type[TamellmError], int]] = [
    (InputError, 400),
    (ModelNotFoundError, 404),
    (MissingExtraError, 501),
    (ModelFormatError, 500),
]


class APIError(Exception):
    """An error answered to the client with ``status`` and an OpenAI-style body."""

    def __init__(
        self,
        status: int,
        message: str,
        code: str,
        param: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.message, self.code, self.param = status, message, code, param
        self.headers = headers or {}


def error_response(
    status: int,
    message: str,
    code: str | None,
    param: str | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """A JSON error response in the OpenAI shape."""
    kind = ERROR_TYPES.get(status, "server_error" if status >= 500 else "invalid_request_error")
    body = {"error": {"message": message, "type": kind, "param": param, "code": code}}
    return JSONResponse(body, status_code=status, headers=headers)


def _field(loc: tuple) -> str:
    """'messages.0.content' from a pydantic location ('body', 'messages', 0, 'content')."""
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
    errors = exc.errors()
    first = errors[0] if errors else {"loc": ("body",), "msg": "invalid request", "type": "value_error"}
    if first.get("type") == "json_invalid":
        return error_response(
            400,
            f"Malformed JSON body: {first.get('msg')} at position {(first.get('loc') or ('', '?'))[-1]}",
            "invalid_json",
        )
    parts = []
    for err in errors[:5]:
        field = _field(tuple(err.get("loc", ())))
        parts.append(f"'{field}': {err.get('msg')}")
    message = "Invalid request: " + "; ".join(parts)
    return error_response(422, message, "invalid_value", param=_field(tuple(first.get("loc", ()))))


async def _api_error(request: Request, exc: APIError) -> JSONResponse:
    return error_response(exc.status, exc.message, exc.code, exc.param, exc.headers)


async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    codes = {404: "not_found", 405: "method_not_allowed", 413: "request_too_large"}
    message = str(exc.detail)
    if exc.status_code == 404:
        message = f"No route {request.method} {request.url.path}; see /docs for the API"
    return error_response(
        exc.status_code,
        message,
        codes.get(exc.status_code, "http_error"),
        headers=getattr(exc, "headers", None),
    )


async def _tamellm(request: Request, exc: TamellmError) -> JSONResponse:
    status = next((s for kind, s in TAMELLM_STATUS if isinstance(exc, kind)), 400)
    code = {400: "invalid_input", 404: "model_not_found", 501: "missing_extra"}.get(status, "model_error")
    return error_response(status, str(exc), code)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.error(
        "unexpected error on %s %s: %s: %s",
        request.method,
        request.url.path,
        type(exc).__name__,
        exc,
        exc_info=exc,
    )
    return error_response(
        500,
        f"Internal error ({type(exc).__name__}); see the server log for this request id",
        "internal_error",
    )


def install(app: FastAPI) -> None:
    """Register the handlers that turn every failure into an OpenAI-style error."""
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(APIError, _api_error)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(TamellmError, _tamellm)
    app.add_exception_handler(Exception, _unexpected)
