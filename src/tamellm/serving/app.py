"""The FastAPI application factory: ``build_app(models, settings)``.

``app_from_env`` is the factory uvicorn calls in each worker process (``--workers N``):
the models and settings travel in the TAMELLM_SERVE environment variable.
"""

from __future__ import annotations

import json
import logging
import os
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI
from fastapi_offline import FastAPIOffline

from tamellm.apps.monitor import http as monitor_http
from tamellm.config import ServeConfig, config_from_dict
from tamellm.serving import errors, logging_json, routes_images, routes_openai, routes_ops, routes_tasks, routes_ui
from tamellm.serving.auth import KeyStore
from tamellm.serving.deps import authorize
from tamellm.serving.limits import BodySizeLimit
from tamellm.serving.middleware import RequestContext
from tamellm.serving.state import ServerState

log = logging.getLogger("tamellm.serving")
ENV_VAR = "TAMELLM_SERVE"
LOOPBACK = {"127.0.0.1", "::1", "localhost"}
DESCRIPTION = (
    "OpenAI-compatible and task endpoints over local models. Send `Authorization: Bearer KEY` when the "
    'server has API keys. Errors look like `{"error": {"message", "type", "param", "code"}}`.'
)


def settings_from(settings: dict[str, Any] | ServeConfig | None) -> ServeConfig:
    """A checked ServeConfig; unknown keys and bad values raise ConfigError naming them."""
    if isinstance(settings, ServeConfig):
        return settings
    return config_from_dict({"serve": settings or {}}, source="serve settings").serve


def check_binding(host: str, keys: KeyStore) -> None:
    """With no API key, refuse any address but loopback; say that the server is open there."""
    from tamellm.errors import ConfigError

    if keys:
        log.info("API keys required (%d configured)", len(keys))
        return
    if host not in LOOPBACK:
        raise ConfigError(
            f"Refusing to serve on {host} without an API key",
            "pass --api-key-file FILE or set TAMELLM_API_KEYS, or bind to 127.0.0.1",
        )
    log.warning(
        "no API key configured: the server is open to anyone on this machine and binds to %s only", host
    )


def build_app(models: list[str], settings: dict[str, Any] | ServeConfig | None = None) -> FastAPI:
    """Load ``models`` (catalog names or folders) and build the app that serves them."""
    config = settings_from(settings)
    if not models and not config.faq and not config.recommender:
        from tamellm.errors import InputError

        raise InputError("No model to serve",
                         "name at least one model, e.g. `tamellm serve minilm-l6`, or a FAQ with --faq DIR")
    keys = KeyStore.load(config.api_key_file)
    check_binding(config.host, keys)
    state = ServerState(list(models), config, keys)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        state.ready = True
        log.info("serving %s on %s:%s", ", ".join(state.pool.models), config.host, config.port)
        try:
            yield
        finally:
            await state.shutdown()

    # Swagger UI from files inside the fastapi-offline package, not a CDN: /docs works offline.
    app = FastAPIOffline(
        title="tamellm",
        version=_version(),
        lifespan=lifespan,
        description=DESCRIPTION,
    )
    app.state.tamellm = state
    errors.install(app)
    from tamellm.serving import media_inputs

    media_inputs.install(app, config.max_body_bytes)  # files (image, PDF, audio) as input of the text routes
    app.add_middleware(BodySizeLimit, max_bytes=config.max_body_bytes)
    app.add_middleware(RequestContext, metrics=state.metrics)
    app.include_router(routes_openai.router)
    if state.pool.serving("transcribe"):
        app.include_router(routes_tasks.audio_router)
    app.include_router(routes_tasks.router)
    app.include_router(routes_ops.router)
    routes_images.install(app)  # POST /v1/images/classify
    if config.faq:
        from tamellm.serving import routes_faq

        routes_faq.install(app, config.faq)
    if config.recommender:
        from tamellm.serving import routes_recommend

        routes_recommend.install(app, config.recommender)  # /v1/recommend, /v1/recommend/{name}
    routes_ui.install(app)  # the web page at / and its /ui/api endpoints
    # /v1/monitor/{name}/... when TAMELLM_MONITORS names sentiment monitors (docs/monitor.md)
    monitor_http.install(app, dependencies=[Depends(authorize)])
    return app


def _version() -> str:
    from importlib import metadata

    try:
        return metadata.version("tamellm")
    except metadata.PackageNotFoundError:
        return "0"


def app_from_env() -> FastAPI:
    """The factory uvicorn calls in each worker: models and settings from TAMELLM_SERVE (JSON)."""
    spec = json.loads(os.environ[ENV_VAR])
    logging_json.configure(getattr(logging, spec.get("log_level", "INFO")))
    return build_app(spec["models"], spec["settings"])
