"""Prometheus metrics: requests, latency, batches, queue, tokens/s.

With several workers (``PROMETHEUS_MULTIPROC_DIR`` set by the runner before they start),
prometheus_client's multiprocess mode sums every worker's values into each scrape.
"""

from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256)


class Metrics:
    """The server's metrics, in a registry of their own (one per app, so tests can build many)."""

    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter(
            "tamellm_requests", "HTTP requests answered", ["route", "method", "status"], registry=r
        )
        self.latency = Histogram(
            "tamellm_request_seconds",
            "Time to answer a request",
            ["route"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.in_flight = Gauge(
            "tamellm_requests_in_flight", "Requests being answered", registry=r, multiprocess_mode="livesum"
        )
        self.batch_size = Histogram(
            "tamellm_batch_size",
            "Texts per micro-batch",
            ["model", "task"],
            buckets=BATCH_BUCKETS,
            registry=r,
        )
        self.queue_depth = Gauge(
            "tamellm_queue_depth",
            "Requests waiting for a micro-batch",
            ["model", "task"],
            registry=r,
            multiprocess_mode="livesum",
        )
        self.rejected = Counter("tamellm_rejected", "Requests refused by a limit", ["reason"], registry=r)
        self.tokens = Counter("tamellm_generated_tokens", "Tokens generated", ["model"], registry=r)
        self.generation_seconds = Counter(
            "tamellm_generation_seconds", "Time spent generating", ["model"], registry=r
        )
        self.tokens_per_second = Gauge(
            "tamellm_tokens_per_second",
            "Decoding speed of the last generation",
            ["model"],
            registry=r,
            multiprocess_mode="mostrecent",
        )

    def generated(self, model: str, tokens: int, seconds: float) -> None:
        """Record one generation."""
        self.tokens.labels(model).inc(tokens)
        self.generation_seconds.labels(model).inc(seconds)
        if seconds > 0:
            self.tokens_per_second.labels(model).set(tokens / seconds)

    def render(self) -> bytes:
        """The text exposition format (every worker's values summed in multiprocess mode)."""
        if os.environ.get(MULTIPROC_ENV):
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
            return generate_latest(registry)
        return generate_latest(self.registry)
