"""What one server process holds: settings, models, batchers, keys, limits, metrics, threads."""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from tamellm.config import ServeConfig
from tamellm.serving.auth import KeyStore
from tamellm.serving.batching import MicroBatcher, RunBatch
from tamellm.serving.errors import APIError
from tamellm.serving.limits import RateLimiter
from tamellm.serving.metrics import Metrics
from tamellm.serving.pool import ModelPool

log = logging.getLogger("tamellm.serving")


def set_threads(settings: ServeConfig) -> int:
    """Threads for this server process (``settings.threads``, else the cores divided among the workers).

    They are shared by ``inference_threads(settings)`` model calls running side by side: torch's
    threads (and so an onnxruntime session's, see models/onnx_loader.py) are set to the share
    of one call. Returns the process's threads.
    """
    import torch

    threads = settings.threads or max(1, (os.cpu_count() or 1) // settings.workers)
    per_call = max(1, threads // inference_threads(settings, threads))
    if torch.get_num_threads() != per_call:
        torch.set_num_threads(per_call)
    return threads


def inference_threads(settings: ServeConfig, threads: int) -> int:
    """How many batched model calls run at once: ``settings.inference_threads``, else one per thread.

    Several single-threaded calls beat one call spread over the same cores: a multi-threaded
    kernel waits at a barrier after each of the model's few hundred operations for its
    slowest thread, and on a shared machine that thread is often descheduled (measured with
    MiniLM on 2 cores under load: ~1.6x the texts per CPU-second of one 2-thread session).
    """
    return max(1, min(settings.inference_threads or threads, threads))


class ServerState:
    """Shared by the routes through ``app.state.tamellm``."""

    def __init__(self, models: list[str], settings: ServeConfig, keys: KeyStore) -> None:
        self.settings = settings
        self.keys = keys
        threads = set_threads(settings)
        self.limiter = RateLimiter(settings.rate_limit_per_minute)
        self.metrics = Metrics()
        self.pool = ModelPool(models, settings.backend)
        self.created = int(time.time())
        # A fixed number of threads run the batched encoders (inference_threads calls at once, sharing
        # the cores: never oversubscribed by request threads), one the generations: a long chat does not
        # hold up classification.
        self.concurrency = inference_threads(settings, threads)
        self.inference = ThreadPoolExecutor(self.concurrency, thread_name_prefix="tamellm-infer")
        self.generation = ThreadPoolExecutor(1, thread_name_prefix="tamellm-generate")
        self.batchers: dict[tuple[str, str], MicroBatcher] = {}
        self.ready = False

    def batcher(self, model: str, task: str, run: RunBatch) -> MicroBatcher:
        """The micro-batcher of (model, task), created (and started) on first use."""
        key = (model, task)
        if key not in self.batchers:
            s = self.settings
            self.batchers[key] = MicroBatcher(
                model, task, run, self.inference, self.metrics, s.max_batch_size, s.max_wait_ms, s.max_queue,
                concurrency=self.concurrency,
            )
            self.batchers[key].start()
        return self.batchers[key]

    async def within_timeout(self, awaitable: Any, what: str, cancel: threading.Event | None = None) -> Any:
        """Await ``awaitable`` for at most the request timeout; 504 after it (and ``cancel`` is set, so that
        work running in a thread, such as a generation, stops instead of holding the model)."""
        limit = self.settings.request_timeout_s
        try:
            return await asyncio.wait_for(awaitable, limit)
        except TimeoutError:
            if cancel is not None:
                cancel.set()
            self.metrics.rejected.labels("timeout").inc()
            raise APIError(
                504, f"{what} took longer than the {limit:g} s request timeout", "timeout"
            ) from None

    async def shutdown(self) -> None:
        """Stop the batchers and the inference threads (after uvicorn finished in-flight requests)."""
        self.ready = False
        for batcher in self.batchers.values():
            await batcher.stop()
        self.inference.shutdown(wait=True, cancel_futures=True)
        self.generation.shutdown(wait=True, cancel_futures=True)
        log.info("server stopped")
