"""JSON log lines with the request id, personal data redacted from every message."""

from __future__ import annotations

import contextvars
import json
import logging
import sys
import time

from tamellm.serving.redact import redact

REQUEST_ID: contextvars.ContextVar[str] = contextvars.ContextVar("tamellm_request_id", default="-")
# The loggers a server process writes through: ours, and uvicorn's own.
LOGGERS = ("tamellm", "uvicorn", "uvicorn.error", "uvicorn.access")


class RedactingFilter(logging.Filter):
    """Redacts the formatted message of every record in place (arguments included)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        record.msg, record.args = redact(message), None
        for name in JsonFormatter.FIELDS:  # the structured fields (path, client, ...) too
            value = getattr(record, name, None)
            if isinstance(value, str):
                setattr(record, name, redact(value))
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, request id, message, and ``extra`` fields."""

    FIELDS = ("method", "path", "status", "ms", "key", "client", "model", "batch")

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "request_id": getattr(record, "request_id", None) or REQUEST_ID.get(),
            "message": record.getMessage(),
        }
        line.update({k: getattr(record, k) for k in self.FIELDS if hasattr(record, k)})
        if record.exc_text:
            line["error"] = record.exc_text
        return json.dumps(line, ensure_ascii=False)


def configure(level: int = logging.INFO, stream=None) -> logging.Handler:
    """Send the server's logs as redacted JSON lines to ``stream`` (stderr by default)."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RedactingFilter())
    for name in LOGGERS:
        logger = logging.getLogger(name)
        logger.handlers = [h for h in logger.handlers if not getattr(h, "_tamellm_json", False)]
        handler._tamellm_json = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
        # tamellm writes its own access line (with the request id): uvicorn's would repeat it.
        logger.setLevel(max(level, logging.WARNING) if name == "uvicorn.access" else level)
        logger.propagate = False
    return handler
