"""Dynamic micro-batching: requests wait a few milliseconds to share one model call.

Each request puts its texts on a bounded asyncio queue; one worker task takes up to
``max_batch_size`` texts (or what arrived within ``max_wait_ms``), runs one batched
predict in an inference thread, and hands each request its own results. Up to
``concurrency`` batches run at once (one per inference thread): the next batch is
collected while the previous ones run. A full queue refuses at once (the route answers
429 with Retry-After) instead of growing memory.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Hashable
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Any

from tamellm.serving.errors import APIError
from tamellm.serving.metrics import Metrics

log = logging.getLogger("tamellm.serving.batching")
RunBatch = Callable[[list[str], dict[str, Any]], list[Any]]


@dataclass
class _Item:
    texts: list[str]
    options: dict[str, Any]
    group: Hashable
    future: asyncio.Future = field(repr=False)


class MicroBatcher:
    """Batches the requests of one (model, task); ``run`` maps a list of texts to a list of results."""

    def __init__(
        self,
        model: str,
        task: str,
        run: RunBatch,
        executor: Executor,
        metrics: Metrics,
        max_batch_size: int = 32,
        max_wait_ms: float = 5.0,
        max_queue: int = 256,
        concurrency: int = 1,
    ) -> None:
        self.model, self.task, self.run = model, task, run
        self.slots = asyncio.Semaphore(concurrency)
        self.running: set[asyncio.Task] = set()
        self.executor, self.metrics = executor, metrics
        self.max_batch_size, self.max_wait = max_batch_size, max_wait_ms / 1000.0
        self.queue: asyncio.Queue[_Item] = asyncio.Queue(maxsize=max_queue)
        self._task: asyncio.Task | None = None
        self._depth = metrics.queue_depth.labels(model, task)
        self._batch_size = metrics.batch_size.labels(model, task)
        self.mean_batch_seconds = 0.05  # running estimate, for Retry-After

    def start(self) -> None:
        """Start the worker task on the running loop."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(
                self._work(), name=f"batcher-{self.model}-{self.task}"
            )

    async def stop(self) -> None:
        """Stop the worker; requests still queued get 503."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        await asyncio.gather(*self.running, return_exceptions=True)  # batches already running finish
        while not self.queue.empty():
            item = self.queue.get_nowait()
            if not item.future.done():
                item.future.set_exception(APIError(503, "The server is shutting down", "shutting_down"))

    async def submit(
        self, texts: list[str], options: dict[str, Any] | None = None, group: Hashable = None
    ) -> list[Any]:
        """Queue ``texts``; return their results in order. Items of one batch share ``group``'s options."""
        future = asyncio.get_running_loop().create_future()
        item = _Item(texts, options or {}, group, future)
        try:
            try:
                self.queue.put_nowait(item)
            except asyncio.QueueFull:
                self._drop_abandoned()  # requests that already timed out hold no place in the queue
                self.queue.put_nowait(item)
        except asyncio.QueueFull:
            self.metrics.rejected.labels("queue_full").inc()
            retry = max(1, round(self.queue.maxsize / self.max_batch_size * self.mean_batch_seconds))
            raise APIError(
                429,
                f"The {self.task} queue of model '{self.model}' is full "
                f"({self.queue.maxsize} requests waiting); retry after {retry} s",
                "queue_full",
                headers={"Retry-After": str(retry)},
            ) from None
        self._depth.set(self.queue.qsize())
        return await future

    def _drop_abandoned(self) -> None:
        """Take the queued requests whose caller stopped waiting (timed out, hung up) out of the queue."""
        waiting = []
        while not self.queue.empty():
            waiting.append(self.queue.get_nowait())
        for item in waiting:
            if not item.future.done():
                self.queue.put_nowait(item)

    async def _collect(self) -> list[_Item]:
        """The next batch: the first waiting item, then whatever arrives within max_wait."""
        loop = asyncio.get_running_loop()
        batch = [await self.queue.get()]
        size = len(batch[0].texts)
        deadline = loop.time() + self.max_wait
        while size < self.max_batch_size:
            if self.queue.empty():
                remaining = deadline - loop.time()
                if remaining <= 0:
                    break
                try:
                    item = await asyncio.wait_for(self.queue.get(), remaining)
                except TimeoutError:
                    break
            else:
                item = self.queue.get_nowait()
            batch.append(item)
            size += len(item.texts)
        self._depth.set(self.queue.qsize())
        return [item for item in batch if not item.future.done()]  # drop the ones that timed out

    async def _work(self) -> None:
        while True:
            # A free inference thread first, then the batch: while every thread is busy the requests
            # stay in the bounded queue (full -> 429) and the next batch grows from them.
            await self.slots.acquire()
            try:
                batch = await self._collect()
            except BaseException:
                self.slots.release()
                raise
            task = asyncio.get_running_loop().create_task(self._run_batch(batch))
            self.running.add(task)
            task.add_done_callback(self.running.discard)

    async def _run_batch(self, batch: list[_Item]) -> None:
        loop = asyncio.get_running_loop()
        try:
            groups: dict[Hashable, list[_Item]] = {}
            for item in batch:
                groups.setdefault(item.group, []).append(item)
            for items in groups.values():
                texts = [t for item in items for t in item.texts]
                self._batch_size.observe(len(texts))
                start = loop.time()
                try:
                    results = await loop.run_in_executor(self.executor, self.run, texts, items[0].options)
                except Exception as exc:  # noqa: BLE001 - handed to every waiting request
                    for item in items:
                        if not item.future.done():
                            item.future.set_exception(exc)
                    continue
                self.mean_batch_seconds = 0.8 * self.mean_batch_seconds + 0.2 * (loop.time() - start)
                offset = 0
                for item in items:
                    part = results[offset : offset + len(item.texts)]
                    offset += len(item.texts)
                    if not item.future.done():
                        item.future.set_result(part)
        finally:
            self.slots.release()
