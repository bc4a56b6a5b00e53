"""Put a monitor together from names and files: model, watchlist, rules, sinks, settings."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tamellm.apps.monitor.entities import EntityMatcher, load_watchlist, spacy_organisations
from tamellm.apps.monitor.rules import load_rules
from tamellm.apps.monitor.runner import Monitor, Settings
from tamellm.apps.monitor.sentiment import SentimentModel
from tamellm.apps.monitor.sinks import SINKS, Sink


@dataclass
class WebhookOptions:
    """Where and how to POST alerts."""

    url: str
    secret: str | None = None
    timeout: float = 5.0
    retries: int = 4
    backoff: float = 0.5


def explainer(model: str, words: int = 5) -> Any:
    """A function text -> its top words (``tamellm.explanations``, occlusion: cheap and model-agnostic)."""
    import tamellm.api as api

    def explain(text: str) -> list[dict]:
        result = api.explain(text, model=model, method="occlusion")
        return [{"word": w.word, "score": round(float(w.score), 4)} for w in result.top(words)]

    return explain


def open_monitor(
    model: str | os.PathLike,
    watchlist: str | os.PathLike | dict,
    state: str | os.PathLike,
    alerts: str | os.PathLike | None = None,
    rules: str | os.PathLike | list | None = None,
    label_map: str | dict | None = None,
    window: str | float = "1h",
    lateness: str | float = "5m",
    alpha: float = 0.1,
    examples: int = 3,
    batch_size: int = 256,
    console: bool = False,
    webhook: WebhookOptions | None = None,
    dead_letter: str | os.PathLike | None = None,
    all_cashtags: bool = False,
    ner: bool | str = False,
    explain: bool = False,
) -> Monitor:
    """A ``Monitor`` ready to run: the classifier loaded once, sinks opened, the state file checked.

    ``ner``: True (spaCy's organisations through ``tamellm.ner``) or an NER model name.
    ``explain``: attach the top words of each example text (``tamellm.explanations``).
    """
    settings = Settings.parse(window=window, lateness=lateness, alpha=alpha, examples=examples,
                              batch_size=batch_size)
    rule_list = load_rules(rules)  # checked before the model loads: a typo fails fast
    matcher = EntityMatcher(load_watchlist(watchlist), all_cashtags=all_cashtags,
                            ner=spacy_organisations(None if ner is True else ner) if ner else None)
    sinks: dict[str, Sink] = {}  # by their SINKS names: the state keys deliveries by them
    if console:
        sinks["console"] = SINKS["console"]()
    if alerts is not None:
        sinks["jsonl"] = SINKS["jsonl"](alerts)
    if webhook is not None:
        sinks["webhook"] = SINKS["webhook"](webhook.url, secret=webhook.secret, timeout=webhook.timeout,
                                            retries=webhook.retries, backoff=webhook.backoff)
    classifier = SentimentModel(str(model), label_map)
    if dead_letter is None and alerts is not None:
        dead_letter = Path(alerts).with_suffix(".dead-letter.jsonl")
    return Monitor(classifier, matcher, state, rules=rule_list, sinks=sinks, settings=settings,
                   dead_letter=dead_letter, explain=explainer(str(model)) if explain else None)
