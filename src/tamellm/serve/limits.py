"""Limits: per-key token-bucket rate limits. (The body size limit is FastAPI's own ``max_body_size``.)"""

from __future__ import annotations

import json
import threading
import time


class RateLimiter:
    """A token bucket per key: ``per_minute`` requests, refilled continuously.

    Hand-written (a few lines) because the rate-limit libraries for Starlette keep their
    own storage and key functions; this one is keyed by the API key id we already have.
    """

    def __init__(self, per_minute: int | None) -> None:
        self.per_minute = per_minute
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, last time)
        self._lock = threading.Lock()

    def take(self, key: str) -> float:
        """Take one token for ``key``: 0.0 when allowed, else the seconds until one is free."""
        if not self.per_minute:
            return 0.0
        rate = self.per_minute / 60.0
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(key, (float(self.per_minute), now))
            tokens = min(float(self.per_minute), tokens + (now - last) * rate)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                return 0.0
            self._buckets[key] = (tokens, now)
            return (1.0 - tokens) / rate


def error_body(message: str, kind: str, code: str, param: str | None = None) -> bytes:
    """An OpenAI-style error body."""
    return json.dumps({"error": {"message": message, "type": kind, "param": param, "code": code}}).encode()
