"""A financial sentiment monitor: timestamped texts in, per-entity sentiment windows, alerts out.

    >>> from tamellm.apps.monitor import open_monitor
    >>> monitor = open_monitor("runs/fin/model", "watch.yaml", "monitor.db", alerts="alerts.jsonl")
    >>> monitor.run_file("events.jsonl").to_dict()

See docs/monitor.md. Built only on the public API (``tamellm.load``, ``tamellm.ner``,
``tamellm.explanations``) and the foundation helpers.
"""

from tamellm.apps.monitor.build import WebhookOptions, open_monitor
from tamellm.apps.monitor.entities import EntityMatcher, load_watchlist
from tamellm.apps.monitor.events import Event, parse_timestamp, read_file
from tamellm.apps.monitor.rules import RULES, Rule, load_rules
from tamellm.apps.monitor.runner import Monitor, Settings, Summary
from tamellm.apps.monitor.sentiment import SentimentModel, parse_label_map
from tamellm.apps.monitor.sinks import SINKS, DeliveryError, JsonlSink, WebhookSink, sign
from tamellm.apps.monitor.state import Store

__all__ = [
    "RULES", "SINKS", "DeliveryError", "EntityMatcher", "Event", "JsonlSink", "Monitor", "Rule", "SentimentModel",
    "Settings", "Store", "Summary", "WebhookOptions", "WebhookSink", "load_rules", "load_watchlist", "open_monitor",
    "parse_label_map", "parse_timestamp", "read_file", "sign",
]
