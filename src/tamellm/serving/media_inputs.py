"""Files as inputs of the text routes: an image, PDF or audio file in, the text read from it to the task.

``POST /v1/classify`` (and ``/v1/ner``, ``/v1/embeddings``, ``/v1/summarize``, ``/v1/explain``,
``/v1/predict``) accept, besides ``input``:

* ``multipart/form-data`` with one or more ``file`` parts; the other form fields are the route's
  JSON fields (``labels`` repeated or comma-separated, ``model``, ``multi_label``, ...);
* JSON with ``file`` (base64, a ``data:`` URL, or ``{"name": "scan.png", "data": "<base64>"}``)
  or ``files`` (a list of those) instead of ``input``.

Each file is read through the media layer (OCR, PDF text, Whisper); the read texts become the
route's ``input`` and the route runs unchanged, so validation, batching, metrics and the rate
limit are the text route's own. Each item of the answer gets ``text`` (what was read) and
``source`` (file, kind, segments with page / box / timestamps).

An ASGI middleware rather than new routes, because the same paths must keep answering JSON
texts exactly as before. The API key is checked before any file is read, so an unauthenticated
client cannot make the server run OCR; the rate limit counts the request once, in the route.
"""

from __future__ import annotations

import asyncio
import json
import logging
from concurrent.futures import ThreadPoolExecutor
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tamellm.errors import InputError, TamellmError
from tamellm.media.types import MediaText
from tamellm.media.uploads import Upload, decode_base64, media_suffix, read_upload
from tamellm.serving.errors import APIError, error_response

log = logging.getLogger("tamellm.serving")

# Routes whose ``input`` may come from files; ``explain`` takes one text, the others a list.
FILE_ROUTES = {"/v1/classify", "/v1/ner", "/v1/embeddings", "/v1/summarize", "/v1/predict", "/v1/explain"}
SINGLE_TEXT_ROUTES = {"/v1/explain"}
LIST_FIELDS = {"labels"}  # form fields that are lists in the route's JSON body
FILE_FIELDS = ("file", "files", "filename")
MAX_FILES = 16  # each file may take seconds of OCR or transcription


def _form(body: bytes, content_type: str) -> tuple[list[Upload], dict[str, Any]]:
    """(uploads, other fields) from a multipart/form-data body.

    The standard library's e-mail parser reads it, as for the audio route: python-multipart
    (FastAPI's form parser) is not a dependency of tamellm.
    """
    message = BytesParser(policy=HTTP).parsebytes(b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body)
    uploads: list[Upload] = []
    fields: dict[str, Any] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not name:
            continue
        payload = part.get_payload(decode=True) or b""
        filename = part.get_filename()
        if name in ("file", "files") or filename:
            uploads.append(Upload(filename or f"file-{len(uploads)}", payload))
            continue
        value = payload.decode("utf-8", "replace").strip()
        if name in LIST_FIELDS:
            fields.setdefault(name, []).extend(v.strip() for v in value.split(",") if v.strip())
        elif value:
            fields[name] = value  # pydantic turns "true" / "40" into the field's bool / int
    return uploads, fields


def _json_uploads(payload: dict[str, Any]) -> tuple[list[tuple[Upload, str | None]], dict[str, Any]]:
    """(uploads with their data-URL MIME type, the other fields) from a JSON body with ``file`` / ``files``."""
    items = payload.get("files") if "files" in payload else [payload.get("file")]
    if not isinstance(items, list) or not items:
        raise APIError(422, "'files' must be a non-empty list of files", "invalid_value", param="files")
    uploads = []
    for i, item in enumerate(items):
        where = "file" if "files" not in payload else f"files.{i}"
        name = payload.get("filename") if isinstance(payload.get("filename"), str) and len(items) == 1 else None
        if isinstance(item, dict):
            name, item = item.get("name") or name, item.get("data")
        if not isinstance(item, str):
            raise APIError(422, f"'{where}' must be base64 text, a data: URL, or {{\"name\", \"data\"}}",
                           "invalid_value", param=where)
        try:
            data, mime = decode_base64(item, f"'{where}'")
        except InputError as exc:
            raise APIError(422, str(exc), "invalid_value", param=where) from None
        uploads.append((Upload(str(name) if name else f"file-{i}", data), mime))
    rest = {k: v for k, v in payload.items() if k not in FILE_FIELDS}
    return uploads, rest


class MediaInputs:
    """ASGI middleware: requests to ``FILE_ROUTES`` that carry files are read, rewritten to text, answered."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes
        # OCR and transcription take seconds: their own thread, so the models' thread keeps answering texts.
        self.reader = ThreadPoolExecutor(1, thread_name_prefix="tamellm-media")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] not in FILE_ROUTES:
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        content_type = headers.get(b"content-type", b"").decode("latin-1")
        multipart = content_type.startswith("multipart/form-data")
        if not multipart and "json" not in content_type and content_type:
            await self.app(scope, receive, send)
            return
        try:
            body = await self._body(receive)
        except HTTPException as exc:  # BodySizeLimit's 413 while reading a body without Content-Length
            await error_response(exc.status_code, str(exc.detail), "request_too_large")(scope, receive, send)
            return
        payload = None
        if not multipart:
            try:
                payload = json.loads(body)
            except ValueError:
                payload = None
            if not isinstance(payload, dict) or not any(k in payload for k in ("file", "files")):
                # an ordinary text request (or bad JSON, which the route answers): unchanged
                await self.app(scope, _replay(body, receive), send)
                return
        try:
            texts, media, fields = await self._read(scope, body, content_type, payload)
        except APIError as exc:
            await error_response(exc.status, exc.message, exc.code, exc.param, exc.headers)(scope, receive, send)
            return
        fields["input"] = texts[0] if scope["path"] in SINGLE_TEXT_ROUTES else texts
        new_body = json.dumps(fields).encode()
        new_headers = [(k, v) for k, v in scope["headers"] if k not in (b"content-type", b"content-length")]
        new_headers += [(b"content-type", b"application/json"), (b"content-length", str(len(new_body)).encode())]
        annotate = _Annotate(send, media, scope["path"])
        await self.app({**scope, "headers": new_headers}, _replay(new_body, receive), annotate)

    async def _body(self, receive: Receive) -> bytes:
        chunks, more = [], True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        return b"".join(chunks)

    async def _read(self, scope: Scope, body: bytes, content_type: str,
                    payload: dict | None) -> tuple[list[str], list[MediaText], dict[str, Any]]:
        """(texts, read files, the route's other fields); APIError for every refusal."""
        state = scope["app"].state.tamellm
        self._check_key(state, scope)
        if payload is None:
            uploads, fields = _form(body, content_type)
            typed = [(u, None) for u in uploads]
        else:
            if "input" in payload:
                raise APIError(422, "Send either 'input' (texts) or 'file' / 'files', not both", "invalid_value",
                               param="input")
            typed, fields = _json_uploads(payload)
        if not typed:
            raise APIError(422, "'file': no file in the form; send the image, PDF or audio file as a 'file' part",
                           "invalid_value", param="file")
        if len(typed) > MAX_FILES:
            raise APIError(413, f"{len(typed)} files in one request; the limit is {MAX_FILES}", "request_too_large",
                           param="file")
        if scope["path"] in SINGLE_TEXT_ROUTES and len(typed) != 1:
            raise APIError(422, f"{scope['path']} explains one text: send one file, not {len(typed)}",
                           "invalid_value", param="file")
        for upload, mime in typed:  # cheap checks first, before seconds of OCR
            if len(upload.data) > self.max_bytes:
                raise APIError(413, f"'{upload.name}' is {len(upload.data)} bytes; the limit is {self.max_bytes} "
                                    "(tamellm serve --max-upload-mb N raises it)", "request_too_large", param="file")
            try:
                media_suffix(upload.data, upload.name, mime)
            except InputError as exc:
                raise APIError(415, str(exc), "unsupported_media_type", param="file") from None
        speech = state.pool.serving("transcribe")
        speech_model = speech[0].source if speech else None

        def read_all() -> list[MediaText]:
            from tamellm.api import read_file

            return [read_upload(u, lambda path: read_file(path, speech_model=speech_model), mime)
                    for u, mime in typed]

        loop = asyncio.get_running_loop()
        try:
            media = await state.within_timeout(loop.run_in_executor(self.reader, read_all), "Reading the files")
        except TamellmError as exc:
            raise APIError(400, str(exc), "invalid_input", param="file") from None
        limit = state.settings.max_input_chars
        for m in media:
            if not m.text.strip():
                raise APIError(422, f"No text was found in '{m.path}' ({m.kind})", "no_text_found", param="file")
            if len(m.text) > limit:
                raise APIError(413, f"The text read from '{m.path}' is {len(m.text)} characters; the limit is {limit}",
                               "input_too_large", param="file")
        return [m.text for m in media], media, fields

    @staticmethod
    def _check_key(state: Any, scope: Scope) -> None:
        """401 before reading anything when the server has keys and this request has none that fits."""
        if not state.keys:
            return
        value = dict(scope.get("headers") or []).get(b"authorization", b"").decode("latin-1")
        scheme, _, token = value.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise APIError(401, "Missing API key: send 'Authorization: Bearer YOUR_KEY'", "missing_api_key",
                           headers={"WWW-Authenticate": "Bearer"})
        if state.keys.check(token.strip()) is None:
            raise APIError(401, "Invalid API key", "invalid_api_key", headers={"WWW-Authenticate": "Bearer"})


def _replay(body: bytes, receive: Receive) -> Receive:
    """A receive that hands out the already read ``body`` once, then the connection's own (disconnects)."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


class _Annotate:
    """A send that adds ``text`` and ``source`` of each read file to a successful JSON answer."""

    def __init__(self, send: Send, media: list[MediaText], path: str) -> None:
        self.send, self.media, self.path = send, media, path
        self.start: Message | None = None
        self.chunks: list[bytes] = []

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            if message["status"] != 200:
                await self.send(message)  # errors pass through as the route wrote them
                return
            self.start = message
            return
        if message["type"] != "http.response.body" or self.start is None:
            await self.send(message)
            return
        self.chunks.append(message.get("body", b""))
        if message.get("more_body", False):
            return
        body = self._annotated(b"".join(self.chunks))
        headers = [(k, v) for k, v in self.start["headers"] if k != b"content-length"]
        headers.append((b"content-length", str(len(body)).encode()))
        await self.send({**self.start, "headers": headers})
        await self.send({"type": "http.response.body", "body": body})

    def _annotated(self, raw: bytes) -> bytes:
        try:
            answer = json.loads(raw)
        except ValueError:
            return raw
        files = [{"text": m.text, "source": m.provenance()} for m in self.media]
        items = answer.get("data") if isinstance(answer, dict) else None
        if isinstance(items, list):
            for position, item in enumerate(items):
                index = item.get("index", position) if isinstance(item, dict) else position
                if isinstance(item, dict) and 0 <= index < len(files):
                    item.update(files[index])
        elif isinstance(answer, dict) and len(files) == 1:
            answer.update(files[0])
        return json.dumps(answer).encode()


def install(app: Any, max_bytes: int) -> None:
    """Let the text routes take files (``MediaInputs``); ``max_bytes``: the largest file (the upload limit)."""
    app.add_middleware(MediaInputs, max_bytes=max_bytes)
