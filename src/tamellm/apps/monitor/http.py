"""HTTP routes of the monitor, for the server to mount: post events, read entities and alerts.

    POST /v1/monitor/{name}/events    {"events": [{"id", "timestamp", "text", "source"?}, ...]}
    GET  /v1/monitor/{name}/entities  each entity's latest closed window, baseline and open episodes
    GET  /v1/monitor/{name}/alerts    stored alerts, newest last (?entity=ACME&limit=50)

The monitors come from a YAML file (``TAMELLM_MONITORS=monitors.yaml``) mapping a name to
the keyword arguments of ``open_monitor`` (model, watchlist, state, alerts, rules, label_map,
window, lateness, webhook, ...); each is opened on its first request and used under a lock.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

import yaml
from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, Field

from tamellm.apps.monitor.build import WebhookOptions, open_monitor
from tamellm.apps.monitor.events import event_from_dict, iso
from tamellm.apps.monitor.runner import Monitor
from tamellm.errors import ConfigError, DataError, did_you_mean

ENV_VAR = "TAMELLM_MONITORS"
_KEYS = set(open_monitor.__code__.co_varnames[:open_monitor.__code__.co_argcount])


class EventsIn(BaseModel):
    """A batch of events to add."""

    events: list[dict[str, Any]] = Field(
        ..., min_length=1, max_length=10_000,
        description='[{"id": "1", "timestamp": "2026-01-05T09:30:00Z", "text": "...", "source": "..."}]; instead of '
                    '"text", "file": {"name": "scan.png", "data": "<base64>"} (an image, PDF or audio file whose '
                    'read text is the event\'s text)')


def load_config(path: str | os.PathLike) -> dict[str, dict]:
    """{name: open_monitor keyword arguments} from a YAML file; unknown keys raise ConfigError naming them."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"Monitor config {path} not found",
                          f"set {ENV_VAR} to a YAML file: NAME: {{model: ..., watchlist: ..., state: ...}}")
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected NAME: {{model: ..., watchlist: ..., state: ...}}")
    for name, options in raw.items():
        if not isinstance(options, dict):
            raise ConfigError(f"{path}: monitor '{name}' must be a mapping of options")
        for key in options:
            if key not in _KEYS:
                raise ConfigError(f"{path}: monitor '{name}' has unknown key '{key}'.{did_you_mean(key, _KEYS)}",
                                  f"keys: {', '.join(sorted(_KEYS))}")
        for key in ("model", "watchlist", "state"):
            if key not in options:
                raise ConfigError(f"{path}: monitor '{name}' needs '{key}'")
    return {str(k): v for k, v in raw.items()}


class MonitorHub:
    """The configured monitors by name, opened lazily, one lock each."""

    def __init__(self, config: dict[str, dict]) -> None:
        self.config = config
        self._open: dict[str, Monitor] = {}
        self._locks = {name: threading.Lock() for name in config}
        self._guard = threading.Lock()

    @classmethod
    def from_env(cls) -> MonitorHub | None:
        """The hub of ``$TAMELLM_MONITORS``, or None when it is not set."""
        path = os.environ.get(ENV_VAR)
        return cls(load_config(path)) if path else None

    def lock(self, name: str) -> threading.Lock:
        """The lock that serialises work on monitor ``name``; 404 for an unknown name."""
        if name not in self.config:
            raise HTTPException(404, f"No monitor named '{name}'.{did_you_mean(name, self.config)} "
                                     f"Configured: {', '.join(self.config) or '(none)'}")
        return self._locks[name]

    def get(self, name: str) -> Monitor:
        """The open monitor (call with its lock held)."""
        with self._guard:
            if name not in self._open:
                options = dict(self.config[name])
                if isinstance(options.get("webhook"), dict):
                    options["webhook"] = WebhookOptions(**options["webhook"])
                elif isinstance(options.get("webhook"), str):
                    options["webhook"] = WebhookOptions(options["webhook"])
                self._open[name] = open_monitor(**options)
            return self._open[name]

    def close(self) -> None:
        """Close every open monitor."""
        for monitor in self._open.values():
            monitor.close()


def entities_view(monitor: Monitor) -> list[dict]:
    """Each entity with its latest closed window's numbers and the rules it is in an episode of."""
    db = monitor.store.db
    out = []
    for entity in monitor.store.entity_names():
        row = db.execute("SELECT window_start, numbers FROM windows WHERE entity = ? AND closed = 1 "
                         "ORDER BY window_start DESC LIMIT 1", (entity,)).fetchone()
        active = [r[0] for r in db.execute("SELECT rule FROM rule_state WHERE entity = ? AND active = 1", (entity,))]
        latest = {"window_start": iso(row[0]), **json.loads(row[1] or "{}")} if row else None
        out.append({"entity": entity, "latest_window": latest, "active_episodes": active})
    return out


def router(hub: MonitorHub) -> APIRouter:
    """The routes over ``hub`` (the server adds its authorization dependency when mounting)."""
    api = APIRouter(prefix="/v1/monitor", tags=["monitor"])

    @api.post("/{name}/events")
    def post_events(name: str, body: EventsIn) -> dict:
        """Add events (classified, stored and judged at once); returns counts and the alerts they raised."""
        events = []
        for i, row in enumerate(body.events):
            events.append(event_from_dict(row, f"events[{i}]"))  # DataError -> 400 naming the item
        with hub.lock(name):
            monitor = hub.get(name)
            before = monitor.summary.duplicates, monitor.summary.late
            alerts = monitor.process(events)
            monitor.deliver()
            return {"accepted": len(events) - (monitor.summary.duplicates - before[0]),
                    "duplicates": monitor.summary.duplicates - before[0], "late": monitor.summary.late - before[1],
                    "alerts": alerts}

    @api.get("/{name}/entities")
    def get_entities(name: str) -> dict:
        """The entities seen, with their latest window and open episodes."""
        with hub.lock(name):
            return {"monitor": name, "entities": entities_view(hub.get(name))}

    @api.get("/{name}/alerts")
    def get_alerts(name: str, entity: str | None = None, limit: int = 100) -> dict:
        """Stored alerts, oldest first (the last ``limit``)."""
        if limit < 1:
            raise DataError("limit must be at least 1")
        with hub.lock(name):
            return {"monitor": name, "alerts": hub.get(name).store.alerts(entity, limit)}

    return api


def install(app: Any, dependencies: list | None = None) -> MonitorHub | None:
    """Mount the routes on ``app`` when ``$TAMELLM_MONITORS`` names monitors; the hub (or None)."""
    hub = MonitorHub.from_env()
    if hub is not None:
        app.include_router(router(hub), dependencies=dependencies or [])
    return hub
