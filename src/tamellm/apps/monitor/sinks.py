"""Where alerts go: the console, a JSONL file, a webhook. Each sink is in ``SINKS`` by name.

A sink's ``deliver(alert)`` returns once the alert is safely there, or raises
``DeliveryError`` when it gave up (the runner then writes it to the dead-letter file).
The JSONL sink is exactly-once: it appends whole lines with fsync and, on start, cuts a
torn last line and skips alerts whose id the file already holds (a crash between the
append and the state update does not duplicate them). The webhook is at-least-once with
an ``Idempotency-Key`` header (the alert id) that lets a receiver drop a repeat.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import sys
import time
from pathlib import Path
from typing import IO, Any

from tamellm.errors import ConfigError
from tamellm.registry import Registry

log = logging.getLogger("tamellm.apps.monitor")
SIGNATURE_HEADER = "X-Tamellm-Signature"


class DeliveryError(Exception):
    """A sink gave up on an alert (after its retries)."""

    def __init__(self, message: str, attempts: int = 1) -> None:
        super().__init__(message)
        self.attempts = attempts


class Sink:
    """Base class: a named place alerts are delivered to."""

    name = "sink"

    def deliver(self, alert: dict) -> int:
        """Deliver one alert; return the number of attempts it took."""
        raise NotImplementedError

    def close(self) -> None:
        """Release files or connections."""


SINKS: Registry[type[Sink]] = Registry("monitor_sinks", "alert sink")


def alert_line(alert: dict) -> str:
    """One alert as a compact JSON line."""
    return json.dumps(alert, ensure_ascii=False, sort_keys=False) + "\n"


def describe(alert: dict) -> str:
    """A one-line human summary of an alert."""
    numbers = ", ".join(f"{k}={_fmt(alert.get(k))}" for k in alert.get("fired_by", {}))
    return f"[{alert['kind']}] {alert['entity']} {alert['window_start']} .. {alert['window_end']}  {numbers}"


def _fmt(value: Any) -> str:
    return f"{value:.3g}" if isinstance(value, float) else str(value)


@SINKS.register("console")
class ConsoleSink(Sink):
    """One line per alert on a stream (stdout by default), with its top example texts."""

    def __init__(self, stream: IO[str] | None = None, examples: int = 2) -> None:
        self.stream = stream or sys.stdout
        self.examples = examples

    def deliver(self, alert: dict) -> int:
        lines = [describe(alert)]
        lines += [f"    - {e['text'][:160]}" for e in alert.get("examples", [])[: self.examples]]
        self.stream.write("\n".join(lines) + "\n")
        self.stream.flush()
        return 1


@SINKS.register("jsonl")
class JsonlSink(Sink):
    """Appends one JSON object per alert to a file, exactly once per alert id."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._seen = self._recover()
        self.path.touch()  # exists from the start, so that a consumer can tail it

    def _recover(self) -> set[str]:
        """Cut a torn last line (a crash during an append) and read the ids already written."""
        if not self.path.exists():
            return set()
        data = self.path.read_bytes()
        if data and not data.endswith(b"\n"):
            keep = data.rfind(b"\n") + 1
            log.warning("%s ends with a partial alert line (a crash while writing): removing it", self.path)
            with open(self.path, "r+b") as handle:
                handle.truncate(keep)
                os.fsync(handle.fileno())
            data = data[:keep]
        seen = set()
        for line in data.splitlines():
            try:
                seen.add(json.loads(line).get("id"))
            except (json.JSONDecodeError, AttributeError):
                continue
        return seen

    def deliver(self, alert: dict) -> int:
        if alert["id"] in self._seen:
            return 0  # written before a crash that came before the state update
        with open(self.path, "a", encoding="utf-8") as handle:
            handle.write(alert_line(alert))
            handle.flush()
            os.fsync(handle.fileno())
        self._seen.add(alert["id"])
        return 1


def sign(body: bytes, secret: str) -> str:
    """The signature header's value: ``sha256=`` + hex HMAC-SHA256 of the exact body."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@SINKS.register("webhook")
class WebhookSink(Sink):
    """HTTP POST of the alert as JSON, signed, with a timeout and retries with exponential backoff.

    A 2xx answer is success; 4xx other than 408/429 is not retried (the receiver refuses it);
    connection errors, timeouts and other answers are retried ``retries`` times.
    """

    def __init__(self, url: str, secret: str | None = None, timeout: float = 5.0, retries: int = 4,
                 backoff: float = 0.5, max_backoff: float = 30.0) -> None:
        import httpx

        if not url.startswith(("http://", "https://")):
            raise ConfigError(f"Webhook URL {url!r} is not http(s)", "e.g. https://hooks.example.com/alerts")
        self.url, self.secret = url, secret
        self.retries, self.backoff, self.max_backoff = retries, backoff, max_backoff
        self.client = httpx.Client(timeout=timeout)

    def deliver(self, alert: dict) -> int:
        import httpx

        body = json.dumps(alert, ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json", "Idempotency-Key": alert["id"],
                   "User-Agent": "tamellm-monitor"}
        if self.secret:
            headers[SIGNATURE_HEADER] = sign(body, self.secret)
        error = ""
        for attempt in range(1, self.retries + 2):
            try:
                response = self.client.post(self.url, content=body, headers=headers)
                if 200 <= response.status_code < 300:
                    return attempt
                error = f"HTTP {response.status_code}"
                if 400 <= response.status_code < 500 and response.status_code not in (408, 429):
                    raise DeliveryError(f"{self.url} refused the alert: {error}", attempt)
            except httpx.HTTPError as exc:
                error = f"{type(exc).__name__}: {exc}"
            if attempt <= self.retries:
                delay = min(self.max_backoff, self.backoff * 2 ** (attempt - 1))
                log.warning("webhook %s failed (%s); retry %d/%d in %.1fs", self.url, error, attempt,
                            self.retries, delay)
                time.sleep(delay)
        raise DeliveryError(f"{self.url} failed after {self.retries + 1} attempts: {error}", self.retries + 1)

    def close(self) -> None:
        self.client.close()


class DeadLetters:
    """Alerts that a sink gave up on, one JSON line each with the sink and the error: nothing is lost."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)

    def add(self, alert: dict, sink: str, error: str) -> None:
        """Append the alert with why it was not delivered."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        record = {"sink": sink, "error": error, "failed_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                  "alert": alert}
        with open(self.path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
