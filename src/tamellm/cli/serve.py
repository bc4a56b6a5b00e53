"""``tamellm serve MODEL [MODEL ...]``: the HTTP service (OpenAI-compatible and task endpoints)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from tamellm.cli.common import COMMANDS


def serve_command(
    models: Annotated[list[str] | None, typer.Argument(help="Catalog names or model folders to serve.")] = None,
    host: Annotated[
        str, typer.Option("--host", help="Address to bind (anything but loopback needs API keys).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", "-p", help="Port to bind.")] = 8000,
    api_key_file: Annotated[
        Path | None,
        typer.Option(
            "--api-key-file", help="File with one API key per line (or set TAMELLM_API_KEYS=key1,key2)."
        ),
    ] = None,
    workers: Annotated[
        int, typer.Option("--workers", "-w", help="Server processes; each loads the models.")
    ] = 1,
    max_batch_size: Annotated[int, typer.Option("--max-batch-size", help="Texts per micro-batch.")] = 32,
    max_wait_ms: Annotated[
        float, typer.Option("--max-wait-ms", help="How long a micro-batch waits to fill.")
    ] = 5.0,
    max_queue: Annotated[
        int, typer.Option("--max-queue", help="Queued requests per model before 429.")
    ] = 256,
    max_input_chars: Annotated[
        int, typer.Option("--max-input-chars", help="Longest text accepted (413).")
    ] = 20000,
    request_timeout: Annotated[
        float, typer.Option("--request-timeout", help="Seconds per request (504).")
    ] = 60.0,
    max_upload_mb: Annotated[
        float | None,
        typer.Option("--max-upload-mb", min=0.001, help="Largest request body in MB, so the largest data or audio "
                     "file the web page uploads (413 above; default 1 MB)."),
    ] = None,
    rate_limit: Annotated[
        int | None, typer.Option("--rate-limit", help="Requests per minute per API key.")
    ] = None,
    redact_inputs: Annotated[
        bool,
        typer.Option(
            "--redact-inputs",
            help="Redact e-mails, phone/card/ID numbers from inputs before the model sees them.",
        ),
    ] = False,
    threads: Annotated[
        int | None, typer.Option("--threads", help="torch threads per worker (default: cores / workers).")
    ] = None,
    inference_threads: Annotated[
        int | None,
        typer.Option("--inference-threads", help="batched model calls run side by side, each on threads / "
                     "inference-threads cores (default: one single-threaded call per core)."),
    ] = None,
    backend: Annotated[
        str,
        typer.Option(
            "--backend",
            help="auto (default: fine-tuned classifiers and embedding encoders on onnxruntime, chat models "
            "on onnxruntime-genai, falling back to transformers); transformers; onnxruntime (classifiers and "
            "embedding encoders: the same weights exported once to ONNX, faster on CPU); onnxruntime-int8 (the "
            "same in dynamic int8: opt-in, ~2.3x cheaper, answers differ slightly); onnxruntime-genai or "
            "ctranslate2 (chat models, converted once); llama.cpp (GGUF chat models, after make llama). Other "
            "models stay on transformers.",
        ),
    ] = "auto",
    log_level: Annotated[str, typer.Option("--log-level", help="debug, info, warning or error.")] = "info",
    faq: Annotated[
        list[str] | None,
        typer.Option("--faq", help="FAQ index folder to answer from at /v1/faq/NAME/ask (DIR or NAME=DIR; "
                     "repeatable); built with `tamellm faq build`."),
    ] = None,
    recommender: Annotated[
        list[str] | None,
        typer.Option("--recommender", help="Recommender folder to answer from at /v1/recommend/NAME (DIR or "
                     "NAME=DIR; repeatable); built with `tamellm recommend build`."),
    ] = None,
    monitors: Annotated[
        Path | None,
        typer.Option("--monitors", help="YAML file naming sentiment monitors to serve at /v1/monitor/NAME/... "
                     "(sets TAMELLM_MONITORS; see docs/monitor.md)."),
    ] = None,
) -> None:
    """Serve models over HTTP: /v1/chat/completions, /v1/embeddings, /v1/classify, /v1/ner, ... and /docs."""
    from tamellm.serving import serve

    if monitors is not None:
        if not monitors.is_file():
            from tamellm.errors import InputError

            raise InputError(f"Monitors file {monitors} not found", "pass the YAML file that names the monitors")
        os.environ["TAMELLM_MONITORS"] = str(monitors.resolve())  # read by every server worker

    serve(
        models or [],
        host=host,
        port=port,
        api_key_file=api_key_file,
        workers=workers,
        max_batch_size=max_batch_size,
        max_wait_ms=max_wait_ms,
        max_queue=max_queue,
        max_input_chars=max_input_chars,
        request_timeout_s=request_timeout,
        **({"max_body_bytes": int(max_upload_mb * 1024 * 1024)} if max_upload_mb else {}),
        rate_limit_per_minute=rate_limit,
        redact_inputs=redact_inputs,
        threads=threads,
        **({"inference_threads": inference_threads} if inference_threads else {}),
        backend=backend,
        log_level=log_level,
        faq=faq or [],
        recommender=recommender or [],
    )


@COMMANDS.register("serve")
def register(app: typer.Typer) -> None:
    """Add the command to the app."""
    app.command("serve")(serve_command)
