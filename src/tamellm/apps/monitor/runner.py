"""The monitor's loop: read events, classify them in batches, count them per entity and window,
check the rules on each closed window, store everything, then deliver the alerts.

One batch is one SQLite transaction (events, windows, baselines, rule episodes, alerts,
input offset); delivery comes after the commit and is recorded per sink, so a restart
after ``kill -9`` neither loses an event nor sends an alert twice (see ``state`` and ``sinks``).
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any, Protocol

from tamellm.apps.monitor.aggregate import Baseline, WindowCounts, parse_duration, window_start
from tamellm.apps.monitor.entities import EntityMatcher
from tamellm.apps.monitor.events import Batch, Event, iso, read_file, read_stream
from tamellm.apps.monitor.rules import Rule, load_rules
from tamellm.apps.monitor.sentiment import Sentiment
from tamellm.apps.monitor.sinks import DeadLetters, DeliveryError, Sink
from tamellm.apps.monitor.state import Store
from tamellm.errors import ConfigError

log = logging.getLogger("tamellm.apps.monitor")
# Numbers every alert carries at its top level, beside those its rule's conditions name.
HEADLINE = ("count", "negative_share", "positive_share", "mean_score", "baseline_negative_share")
MAX_EMPTY_WINDOWS = 10_000  # an entity silent for longer skips ahead instead of walking every empty window


class Classifier(Protocol):
    """Anything that turns texts into ``Sentiment``s (``SentimentModel`` is the real one)."""

    def predict(self, texts: Sequence[str]) -> list[Sentiment]: ...


@dataclass
class Settings:
    """How events become windows and alerts."""

    window: float = 3600.0  # seconds
    lateness: float = 300.0  # an event may arrive this long after later ones and still count
    alpha: float = 0.1  # EWMA weight of the newest window in the baseline
    examples: int = 3  # example texts per alert
    batch_size: int = 256

    @classmethod
    def parse(cls, window: str | float = "1h", lateness: str | float = "5m", **rest: Any) -> Settings:
        """Settings from durations such as ``"15m"``; checked."""
        settings = cls(window=parse_duration(window, "window"), lateness=parse_duration(lateness, "lateness"), **rest)
        if settings.window < 1 or settings.window != int(settings.window):
            raise ConfigError(f"window must be a whole number of seconds, got {window!r}", "e.g. --window 15m")
        if not 0 < settings.alpha <= 1:
            raise ConfigError(f"alpha must lie in (0, 1], got {settings.alpha}")
        return settings


@dataclass
class Summary:
    """What a run did."""

    read: int = 0
    new: int = 0
    duplicates: int = 0
    late: int = 0
    skipped: int = 0
    unmatched: int = 0
    alerts: int = 0
    delivered: int = 0
    dead_letters: int = 0
    seconds: float = 0.0
    skipped_lines: list[str] = field(default_factory=list)

    @property
    def events_per_s(self) -> float:
        """Events read per second of wall time."""
        return self.read / self.seconds if self.seconds else 0.0

    def to_dict(self) -> dict:
        """For ``--json`` and logs."""
        return {**asdict(self), "skipped_lines": self.skipped_lines[:20], "events_per_s": round(self.events_per_s, 1)}


class Monitor:
    """A sentiment monitor over one state file.

    ``classifier`` is a ``SentimentModel`` (any classifier folder through ``tamellm.load``);
    ``explain`` (optional) turns an example text into its top words.
    """

    def __init__(self, classifier: Classifier, matcher: EntityMatcher, state: str | os.PathLike | Store,
                 rules: list[Rule] | None = None, sinks: dict[str, Sink] | None = None,
                 settings: Settings | None = None, dead_letter: str | os.PathLike | None = None,
                 explain: Callable[[str], list[dict]] | None = None) -> None:
        self.classifier = classifier
        self.matcher = matcher
        self.store = state if isinstance(state, Store) else Store(state)
        self.rules = rules if rules is not None else load_rules()
        self.sinks = sinks or {}
        self.settings = settings or Settings()
        self.dead = DeadLetters(dead_letter or self.store.path.with_suffix(".dead-letter.jsonl"))
        self.explain = explain
        self.summary = Summary()
        self.store.check_settings({"window": self.settings.window})

    # --- one batch ---------------------------------------------------------------------------

    def process(self, events: Sequence[Event], source: str | None = None, offset: int | None = None) -> list[dict]:
        """Classify and store ``events``, close the windows time has passed, return the new alerts.

        ``source``/``offset`` (the input and the position after these events) are stored in the
        same transaction, so that a restart reads on from exactly there.
        """
        store = self.store
        known = self._known_ids([e.id for e in events])
        fresh: dict[str, Event] = {}
        for event in events:  # the same id twice in one batch counts once
            if event.id not in known and event.id not in fresh:
                fresh[event.id] = event
        self.summary.read += len(events)
        self.summary.duplicates += len(events) - len(fresh)
        todo = list(fresh.values())
        sentiments = self.classifier.predict([e.text for e in todo])
        mentions = self.matcher.match_many([e.text for e in todo])
        alerts: list[dict] = []
        with store.transaction():
            closed_through = store.meta("closed_through", float("-inf"))
            max_ts = store.meta("max_ts", float("-inf"))
            for event, sentiment, entities in zip(todo, sentiments, mentions, strict=True):
                self._add_event(event, sentiment, entities, closed_through)
                max_ts = max(max_ts, event.ts)
            if source is not None and offset is not None:
                store.set_offset(source, offset)
            if todo:
                store.set_meta("max_ts", max_ts)
                alerts = self._close_until(window_start(max_ts - self.settings.lateness, self.settings.window))
        self.summary.new += len(todo)
        self.summary.alerts += len(alerts)
        return alerts

    def flush(self) -> list[dict]:
        """Close every window up to the newest event's (end of a finite input): its alerts."""
        with self.store.transaction():
            max_ts = self.store.meta("max_ts")
            if max_ts is None:
                return []
            alerts = self._close_until(window_start(max_ts, self.settings.window) + self.settings.window)
        self.summary.alerts += len(alerts)
        return alerts

    def _known_ids(self, ids: list[str]) -> set[str]:
        known: set[str] = set()
        for i in range(0, len(ids), 500):
            chunk = ids[i:i + 500]
            rows = self.store.db.execute(f"SELECT id FROM events WHERE id IN ({','.join('?' * len(chunk))})", chunk)
            known.update(r[0] for r in rows)
        return known

    def _add_event(self, event: Event, sentiment: Sentiment, entities: list[str], closed_through: float) -> None:
        db = self.store.db
        start = window_start(event.ts, self.settings.window)
        late = bool(entities) and start < closed_through
        inserted = db.execute(
            "INSERT OR IGNORE INTO events (id, ts, text, source, polarity, score, negative, entities, late) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (event.id, event.ts, event.text, event.source, sentiment.polarity, sentiment.score,
             sentiment.negative, json.dumps(entities), int(late))).rowcount
        if not inserted:  # stored meanwhile by another writer of this state file
            self.summary.duplicates += 1
            self.summary.new -= 1
            return
        if not entities:
            self.summary.unmatched += 1
            return
        if late:  # its window is closed and judged already: kept, but not counted
            self.summary.late += 1
            return
        polarity = sentiment.polarity
        for entity in entities:
            db.execute("INSERT OR IGNORE INTO entities (entity, first_window, closed_until) VALUES (?, ?, ?)",
                       (entity, start, start))
            db.execute("UPDATE entities SET first_window = MIN(first_window, ?), closed_until = MIN(closed_until, ?) "
                       "WHERE entity = ?", (start, start, entity))
            db.execute("INSERT OR IGNORE INTO mentions (event_id, entity, window_start) VALUES (?, ?, ?)",
                       (event.id, entity, start))
            db.execute(
                "INSERT INTO windows (entity, window_start, count, negative, neutral, positive, score_sum) "
                "VALUES (?, ?, 1, ?, ?, ?, ?) ON CONFLICT (entity, window_start) DO UPDATE SET "
                "count = count + 1, negative = negative + excluded.negative, neutral = neutral + excluded.neutral, "
                "positive = positive + excluded.positive, score_sum = score_sum + excluded.score_sum",
                (entity, start, int(polarity == "negative"), int(polarity == "neutral"),
                 int(polarity == "positive"), sentiment.score))

    # --- closing windows and checking rules ---------------------------------------------------

    def _close_until(self, closed_through: float) -> list[dict]:
        """Judge every entity's windows that start before ``closed_through`` (inside the caller's transaction)."""
        store, window = self.store, self.settings.window
        if closed_through <= store.meta("closed_through", float("-inf")):
            return []
        store.set_meta("closed_through", closed_through)
        alerts: list[dict] = []
        rows = store.db.execute("SELECT entity, closed_until, baseline FROM entities WHERE closed_until < ? "
                                "ORDER BY entity", (closed_through,)).fetchall()
        for entity, closed_until, raw in rows:
            baseline = Baseline.from_dict(json.loads(raw) if raw else None)
            start = max(closed_until, closed_through - MAX_EMPTY_WINDOWS * window)
            counted = {r[0]: WindowCounts(*r[1:]) for r in store.db.execute(
                "SELECT window_start, count, negative, neutral, positive, score_sum FROM windows "
                "WHERE entity = ? AND window_start >= ? AND window_start < ?", (entity, start, closed_through))}
            while start < closed_through:
                counts = counted.get(start, WindowCounts())
                numbers = baseline.numbers(counts)
                raised, in_episode = self._check_rules(entity, start, numbers)
                alerts += raised
                if counts.count or raised:
                    store.db.execute(
                        "INSERT INTO windows (entity, window_start, closed, numbers) VALUES (?, ?, 1, ?) "
                        "ON CONFLICT (entity, window_start) DO UPDATE SET closed = 1, numbers = excluded.numbers",
                        (entity, start, json.dumps(numbers)))
                if not in_episode:  # an episode must not become the new normal while it lasts
                    baseline.update(counts, self.settings.alpha)
                start += window
            store.db.execute("UPDATE entities SET closed_until = ?, baseline = ? WHERE entity = ?",
                             (closed_through, json.dumps(baseline.to_dict()), entity))
        return alerts

    def _check_rules(self, entity: str, start: float, numbers: dict[str, float]) -> tuple[list[dict], bool]:
        """Alerts this window raises (a new episode or a recovery) and whether an episode is open."""
        db, window = self.store.db, self.settings.window
        alerts, in_episode = [], False
        for rule in self.rules:
            row = db.execute("SELECT active, quiet, episode_start, episode_alert, silent_until FROM rule_state "
                             "WHERE entity = ? AND rule = ?", (entity, rule.name)).fetchone()
            active, quiet, episode_start, episode_alert, silent_until = row or (0, 0, None, None, float("-inf"))
            fires = rule.fires(numbers)
            if active:
                quiet = 0 if fires else quiet + 1
                if quiet >= rule.recovery:
                    alert = self._alert(entity, f"{rule.kind}_recovered", rule, start, numbers,
                                        {"episode_start": iso(episode_start), "episode_alert": episode_alert,
                                         "quiet_windows": quiet})
                    alerts.append(alert)
                    active, quiet = 0, 0
                    silent_until = start + (rule.cooldown + 1) * window
            elif fires and start >= silent_until:
                alert = self._alert(entity, rule.kind, rule, start, numbers, {})
                alerts.append(alert)
                active, quiet, episode_start, episode_alert = 1, 0, start, alert["id"]
            in_episode = in_episode or bool(active)
            db.execute("INSERT OR REPLACE INTO rule_state (entity, rule, active, quiet, episode_start, episode_alert, "
                       "silent_until) VALUES (?, ?, ?, ?, ?, ?, ?)",
                       (entity, rule.name, active, quiet, episode_start, episode_alert, silent_until))
        return alerts, in_episode

    def _alert(self, entity: str, kind: str, rule: Rule, start: float, numbers: dict[str, float],
               extra: dict) -> dict:
        end = start + self.settings.window
        fired_by = {c.field: _round(numbers[c.field]) for c in rule.when}
        alert = {
            "id": f"{entity}:{kind}:{iso(start)}",
            "entity": entity, "kind": kind, "rule": rule.name,
            "window_start": iso(start), "window_end": iso(end),
            **{k: _round(numbers[k]) for k in HEADLINE},
            **fired_by,
            "fired_by": fired_by,
            "conditions": [str(c) for c in rule.when],
            "numbers": {k: _round(v) for k, v in numbers.items()},
            **extra,
            "examples": self._examples(entity, start, rule, recovered=kind != rule.kind),
            "_window_start": start, "_window_end": end,
        }
        if self.store.add_alert(alert, list(self.sinks)):
            log.info("alert %s", alert["id"])
        return {k: v for k, v in alert.items() if not k.startswith("_")}

    def _examples(self, entity: str, start: float, rule: Rule, recovered: bool) -> list[dict]:
        fields = " ".join(c.field for c in rule.when)
        if "positive" in fields or "mean_score" in fields and "negative" not in fields:
            order = "e.score ASC" if recovered else "e.score DESC"
        elif "negative" in fields:
            order = "e.negative ASC" if recovered else "e.negative DESC"
        else:
            order = "e.ts DESC"
        rows = self.store.examples(entity, start, f"{order}, e.id", self.settings.examples)
        examples = []
        for row in rows:
            example = {"id": row["id"], "timestamp": iso(row["ts"]), "text": row["text"],
                       "polarity": row["polarity"], "score": _round(row["score"])}
            if row["source"]:
                example["source"] = row["source"]
            if self.explain is not None:
                try:
                    example["explanation"] = self.explain(row["text"])
                except Exception as exc:  # an explanation is a bonus: the alert goes out without it
                    log.warning("could not explain an example of %s: %s", entity, exc)
            examples.append(example)
        return examples

    # --- delivery -----------------------------------------------------------------------------

    def deliver(self) -> int:
        """Hand every pending alert to its sinks; a sink that gives up sends it to the dead-letter file."""
        done = 0
        for name, sink in self.sinks.items():
            for alert in self.store.pending(name):
                try:
                    attempts = sink.deliver(alert)
                except DeliveryError as exc:
                    log.error("alert %s not delivered to %s: %s (dead letter: %s)", alert["id"], name, exc,
                              self.dead.path)
                    self.dead.add(alert, name, str(exc))
                    self.store.mark(alert["id"], name, "dead", exc.attempts, str(exc))
                    self.summary.dead_letters += 1
                    continue
                self.store.mark(alert["id"], name, "delivered", attempts)
                done += 1
        self.summary.delivered += done
        return done

    # --- whole inputs ---------------------------------------------------------------------------

    def run_batches(self, batches: Iterable[Batch], source: str | None, flush: bool) -> Summary:
        """Process batches until they end, delivering after each; ``flush`` closes the last windows."""
        started = time.perf_counter()
        self.deliver()  # alerts a crashed run stored but had not delivered
        last_offset = self.store.offset(source) if source else None
        for batch in batches:
            self.summary.skipped += len(batch.skipped)
            self.summary.skipped_lines += batch.skipped
            if batch.events or batch.offset != last_offset:  # an idle poll while following writes nothing
                self.process(batch.events, source, batch.offset)
                last_offset = batch.offset
                self.deliver()
        if flush:
            self.flush()
            self.deliver()
        self.summary.seconds += time.perf_counter() - started
        return self.summary

    def run_file(self, path: str | os.PathLike, follow: bool = False, flush: bool | None = None,
                 on_bad: str = "error", poll: float = 0.5,
                 should_stop: Callable[[], bool] = lambda: False) -> Summary:
        """Read a JSONL file from where the last run stopped (once, or following it); a summary."""
        source = str(Path(path).resolve())
        batches = read_file(path, start=self.store.offset(source), batch_size=self.settings.batch_size,
                            follow=follow, poll=poll, on_bad=on_bad, should_stop=should_stop)
        return self.run_batches(batches, source, flush=(not follow) if flush is None else flush)

    def run_stream(self, stream: IO[str], flush: bool = True, on_bad: str = "error") -> Summary:
        """Read JSONL events from a stream (stdin) to its end; a restart relies on event ids."""
        return self.run_batches(read_stream(stream, batch_size=self.settings.batch_size, on_bad=on_bad),
                                None, flush=flush)

    def close(self) -> None:
        """Close the sinks and the state file."""
        for sink in self.sinks.values():
            sink.close()
        self.store.close()


def _round(value: Any) -> Any:
    return round(value, 4) if isinstance(value, float) else value
