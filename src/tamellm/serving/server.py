"""Running the app with uvicorn: one process, or ``workers`` processes from an app factory.

uvicorn handles SIGTERM / SIGINT: it stops accepting connections, lets in-flight
requests (streams included) finish, then runs the app's shutdown, and exits 0.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tamellm.serving import logging_json
from tamellm.serving.app import ENV_VAR, build_app, check_binding, settings_from
from tamellm.serving.auth import KeyStore
from tamellm.serving.metrics import MULTIPROC_ENV

log = logging.getLogger("tamellm.serving")


def run(
    models: list[str],
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: int = 1,
    api_key_file: str | Path | None = None,
    log_level: str = "INFO",
    **settings: Any,
) -> None:
    """Serve ``models`` on host:port until SIGTERM/SIGINT (blocking)."""
    import uvicorn

    logging_json.configure(getattr(logging, log_level.upper(), logging.INFO))
    config = settings_from(
        {
            **settings,
            "host": host,
            "port": port,
            "workers": workers,
            "api_key_file": str(api_key_file) if api_key_file else None,
        }
    )
    check_binding(config.host, KeyStore.load(config.api_key_file))  # fail before anything is loaded
    options = {
        "host": config.host,
        "port": config.port,
        "log_config": None,
        "access_log": False,
        "timeout_graceful_shutdown": int(config.request_timeout_s) + 5,
        "lifespan": "on",
    }
    if config.workers == 1:
        app = build_app(models, config)
        with _exit_zero_on_sigterm():
            uvicorn.run(app, **options)
        return
    from tamellm.models import resolve

    for model in models:  # a wrong name fails here, once, not in every worker
        resolve(model)
    os.environ[ENV_VAR] = json.dumps(
        {
            "models": [str(m) for m in models],
            "log_level": log_level.upper(),
            "settings": config.model_dump(mode="json"),
        }
    )
    log.info("starting %d workers; each loads the models", config.workers)
    # Set before the workers start: their metrics go to shared files that every scrape sums.
    with tempfile.TemporaryDirectory(prefix="tamellm-metrics-") as metrics_dir:
        os.environ.setdefault(MULTIPROC_ENV, metrics_dir)
        uvicorn.run("tamellm.serving.app:app_from_env", factory=True, workers=config.workers, **options)


@contextlib.contextmanager
def _exit_zero_on_sigterm() -> Iterator[None]:
    """uvicorn re-raises the SIGTERM it caught after its graceful shutdown: make that a clean exit (0)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, lambda *_: log.info("stopped by SIGTERM"))
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
