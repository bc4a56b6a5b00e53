"""The micro-batcher with several inference threads: batches side by side, requests queued while all are busy."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from tamellm.config import ServeConfig
from tamellm.serving.batching import MicroBatcher
from tamellm.serving.errors import APIError
from tamellm.serving.metrics import Metrics
from tamellm.serving.state import inference_threads, set_threads

METRICS = Metrics()  # one registry per process: its metrics are registered once


def _upper(texts: list[str], options: dict) -> list[str]:
    return [t.upper() for t in texts]


async def _with_batcher(run, concurrency: int, max_queue: int = 256, **kwargs):
    executor = ThreadPoolExecutor(concurrency)
    batcher = MicroBatcher("m", "t", run, executor, METRICS, max_queue=max_queue, concurrency=concurrency,
                           **kwargs)
    batcher.start()
    return batcher, executor


@pytest.mark.parametrize("concurrency", [1, 2])
def test_every_request_gets_its_own_results_in_order(concurrency):
    async def main() -> list[list[str]]:
        batcher, executor = await _with_batcher(_upper, concurrency, max_batch_size=4)
        try:
            return await asyncio.gather(*(batcher.submit([f"a{i}", f"b{i}"]) for i in range(20)))
        finally:
            await batcher.stop()
            executor.shutdown()

    assert asyncio.run(main()) == [[f"A{i}", f"B{i}"] for i in range(20)]


def test_two_threads_run_two_batches_at_once():
    both_inside = threading.Barrier(2, timeout=10)  # passes only when two batches run together

    def run(texts: list[str], options: dict) -> list[str]:
        both_inside.wait()
        return _upper(texts, options)

    async def main() -> list[list[str]]:
        batcher, executor = await _with_batcher(run, 2, max_batch_size=1, max_wait_ms=0)
        try:
            return await asyncio.gather(batcher.submit(["x"]), batcher.submit(["y"]))
        finally:
            await batcher.stop()
            executor.shutdown()

    assert asyncio.run(main()) == [["X"], ["Y"]]


def test_while_every_thread_is_busy_requests_wait_in_the_bounded_queue():
    release = threading.Event()

    def run(texts: list[str], options: dict) -> list[str]:
        release.wait(10)
        return _upper(texts, options)

    async def main() -> tuple[list, str]:
        batcher, executor = await _with_batcher(run, 2, max_queue=1, max_batch_size=1, max_wait_ms=0)
        try:
            running = []
            for text in ("a", "b"):  # one at a time: the queue holds one request
                running.append(asyncio.create_task(batcher.submit([text])))
                await asyncio.sleep(0.2)  # taken out of the queue by a free thread
            waiting = asyncio.create_task(batcher.submit(["c"]))
            await asyncio.sleep(0.2)
            with pytest.raises(APIError) as refused:  # the queue (1) holds "c": nothing was taken out of it
                await batcher.submit(["d"])
            release.set()
            return await asyncio.gather(*running, waiting), refused.value.code
        finally:
            release.set()
            await batcher.stop()
            executor.shutdown()

    results, code = asyncio.run(main())
    assert results == [["A"], ["B"], ["C"]] and code == "queue_full"


def test_inference_threads_share_the_process_threads():
    import torch

    before = torch.get_num_threads()
    try:
        assert set_threads(ServeConfig(threads=2)) == 2 and torch.get_num_threads() == 1
        assert inference_threads(ServeConfig(threads=2), 2) == 2
        assert set_threads(ServeConfig(threads=2, inference_threads=1)) == 2 and torch.get_num_threads() == 2
        assert inference_threads(ServeConfig(threads=2, inference_threads=8), 2) == 2  # never over the threads
    finally:
        torch.set_num_threads(before)


def test_a_request_that_timed_out_in_the_queue_leaves_its_place_to_a_new_one():
    release = threading.Event()

    def run(texts: list[str], options: dict) -> list[str]:
        release.wait(10)
        return _upper(texts, options)

    async def main() -> list[str]:
        batcher, executor = await _with_batcher(run, 1, max_queue=1, max_batch_size=1, max_wait_ms=0)
        try:
            running = asyncio.create_task(batcher.submit(["a"]))
            await asyncio.sleep(0.2)  # "a" holds the only thread
            with pytest.raises(TimeoutError):  # "b" waits in the queue (size 1) and its caller gives up
                await asyncio.wait_for(batcher.submit(["b"]), 0.2)
            fresh = asyncio.create_task(batcher.submit(["c"]))  # the queue still holds "b": it makes room
            await asyncio.sleep(0.1)
            release.set()
            return [*await running, *await fresh]
        finally:
            release.set()
            await batcher.stop()
            executor.shutdown()

    assert asyncio.run(main()) == ["A", "C"]
