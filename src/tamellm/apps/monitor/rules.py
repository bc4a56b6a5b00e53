"""Alert rules small enough for a YAML file: conditions on a window's numbers, a cooldown, a recovery.

A rules file is a list (or ``{"rules": [...]}``) of rules::

    - name: negative_spike          # also the alert's kind
      when: ["count >= 5", "negative_share_delta >= 0.15", "negative_share_z >= 3", "baseline_windows >= 4"]
      cooldown: 4                   # windows after a recovery during which the rule stays silent
      recovery: 2                   # quiet windows in a row that end an episode (a recovery message)
    - use: volume_spike             # a built-in rule from RULES, with fields overridden
      cooldown: 8

Every condition of ``when`` must hold (write several rules for "or").
"""

from __future__ import annotations

import operator
import os
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import yaml

from tamellm.errors import ConfigError, did_you_mean
from tamellm.registry import Registry

# The numbers of one (entity, window) that a condition may name.
FIELDS = {
    "count": "events in the window",
    "negative_count": "negative events", "neutral_count": "neutral events", "positive_count": "positive events",
    "negative_share": "negative / count", "neutral_share": "neutral / count", "positive_share": "positive / count",
    "mean_score": "mean of P(positive) - P(negative)",
    "baseline_windows": "windows the entity's baseline has seen",
    "baseline_count": "EWMA of the count", "baseline_negative_share": "EWMA of the negative share",
    "baseline_positive_share": "EWMA of the positive share", "baseline_mean_score": "EWMA of the mean score",
    "count_z": "(count - baseline) / its EW standard deviation",
    "negative_share_z": "binomial z-score of negative_share against its baseline at this count (arcsine scale)",
    "positive_share_z": "binomial z-score of positive_share against its baseline at this count (arcsine scale)",
    "mean_score_z": "z-score of the mean score",
    "count_ratio": "count / baseline_count",
    "negative_share_delta": "negative_share - baseline_negative_share",
    "positive_share_delta": "positive_share - baseline_positive_share",
}
OPERATORS = {">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt, "==": operator.eq,
             "!=": operator.ne}
_CONDITION = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(>=|<=|==|!=|>|<)\s*(-?[0-9.]+(?:e-?[0-9]+)?)\s*$")


@dataclass(frozen=True)
class Condition:
    """``field op value``, e.g. ``negative_share >= 0.4``."""

    field: str
    op: str
    value: float

    def holds(self, numbers: dict[str, float]) -> bool:
        """Whether the window's numbers satisfy the condition."""
        return bool(OPERATORS[self.op](numbers[self.field], self.value))

    def __str__(self) -> str:
        return f"{self.field} {self.op} {self.value:g}"


@dataclass(frozen=True)
class Rule:
    """A named set of conditions that all must hold, with its cooldown and recovery (in windows)."""

    name: str
    when: tuple[Condition, ...]
    cooldown: int = 4
    recovery: int = 2
    description: str = ""

    @property
    def kind(self) -> str:
        """The alert kind this rule emits."""
        return self.name

    def fires(self, numbers: dict[str, float]) -> bool:
        """Whether every condition holds for these numbers."""
        return all(c.holds(numbers) for c in self.when)


RULES: Registry[Rule] = Registry("monitor_rules", "monitor rule")


def parse_condition(text: Any, where: str) -> Condition:
    """A ``Condition`` from ``"field op number"``; ConfigError naming ``where`` and the field otherwise."""
    match = _CONDITION.match(str(text))
    if not match:
        raise ConfigError(f"{where}: cannot read condition {text!r}",
                          "write FIELD OP NUMBER, e.g. 'negative_share >= 0.4' (OP: >=, >, <=, <, ==, !=)")
    name, op, value = match.groups()
    if name not in FIELDS:
        raise ConfigError(f"{where}: unknown field '{name}' in {text!r}.{did_you_mean(name, FIELDS)}",
                          f"fields: {', '.join(FIELDS)}")
    return Condition(name, op, float(value))


def _rule(name: str, when: list[str], **extra: Any) -> Rule:
    return Rule(name=name, when=tuple(parse_condition(c, f"rule '{name}'") for c in when), **extra)


RULES.register("negative_spike", _rule(
    "negative_spike", ["count >= 5", "negative_share_delta >= 0.15", "negative_share_z >= 3", "baseline_windows >= 4"],
    description="the share of negative texts jumps well above the entity's usual level"))
RULES.register("positive_spike", _rule(
    "positive_spike", ["count >= 5", "positive_share_delta >= 0.15", "positive_share_z >= 3", "baseline_windows >= 4"],
    description="the share of positive texts jumps well above the entity's usual level"))
RULES.register("volume_spike", _rule(
    "volume_spike", ["count >= 20", "count_ratio >= 4", "count_z >= 4", "baseline_windows >= 4"],
    description="far more texts than usual mention the entity"))

DEFAULT_RULES = ("negative_spike",)
_KEYS = {"name", "use", "when", "cooldown", "recovery", "description"}


def rule_from_dict(raw: Any, where: str) -> Rule:
    """A ``Rule`` from one YAML entry (``use:`` starts from a built-in rule)."""
    if isinstance(raw, str):
        raw = {"use": raw}
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: a rule is a mapping with 'name' and 'when'", "see docs/monitor.md")
    unknown = sorted(set(raw) - _KEYS)
    if unknown:
        raise ConfigError(f"{where}: unknown key '{unknown[0]}'.{did_you_mean(unknown[0], _KEYS)}",
                          f"keys: {', '.join(sorted(_KEYS))}")
    base = RULES[raw["use"]] if "use" in raw else None
    name = str(raw.get("name") or (base.name if base else ""))
    if not name:
        raise ConfigError(f"{where}: the rule has no 'name'", "add  name: my_rule")
    where = f"{where} ('{name}')"
    if "when" in raw:
        when = raw["when"] if isinstance(raw["when"], list) else [raw["when"]]
        conditions = tuple(parse_condition(c, where) for c in when)
    elif base is not None:
        conditions = base.when
    else:
        raise ConfigError(f"{where}: the rule has no 'when' conditions", "add  when: ['negative_share >= 0.5']")
    rule = replace(base, name=name) if base else Rule(name=name, when=conditions)
    extras = {}
    for key in ("cooldown", "recovery"):
        if key in raw:
            value = raw[key]
            if not isinstance(value, int) or isinstance(value, bool) or value < (1 if key == "recovery" else 0):
                raise ConfigError(f"{where}: '{key}' must be a whole number of windows, got {value!r}")
            extras[key] = value
    return replace(rule, when=conditions, description=str(raw.get("description", rule.description)), **extras)


def load_rules(source: str | os.PathLike | list | dict | None = None) -> list[Rule]:
    """Rules from a YAML file, a list of dicts, or the defaults (``DEFAULT_RULES``) when None."""
    if source is None:
        return [RULES[name] for name in DEFAULT_RULES]
    where = "rules"
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        if not path.is_file():
            raise ConfigError(f"Rules file {path} not found", "pass a YAML list of rules (see docs/monitor.md)")
        try:
            source = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise ConfigError(f"Rules file {path} is not valid YAML: {exc}") from None
        where = str(path)
    if isinstance(source, dict):
        source = source.get("rules", source)
    if not isinstance(source, list) or not source:
        raise ConfigError(f"{where}: expected a non-empty list of rules", "see docs/monitor.md")
    rules = [rule_from_dict(raw, f"{where} rule {i + 1}") for i, raw in enumerate(source)]
    names = [r.name for r in rules]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ConfigError(f"{where}: rule name '{duplicates[0]}' appears twice", "give every rule its own name")
    return rules
