"""Per-entity window numbers and the entity's baseline (exponentially weighted mean and variance).

Windows are fixed, aligned to the epoch (a 15-minute window starts at :00, :15, ...).
A window's numbers are final once the watermark (the latest event time seen minus the
allowed lateness) has passed its end; only then are rules checked and the baseline moved.
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass, field

from tamellm.errors import ConfigError

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d)?\s*$")
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400, None: 1}
# Smallest standard deviation a score z-score divides by: a quiet baseline must not turn noise into alerts.
SCORE_STD_FLOOR = 0.08
SHARE_FLOOR = 0.05  # the baseline share a binomial z-score assumes at least (and at most 1 - it)


def parse_duration(value: str | float | int, name: str = "duration") -> float:
    """Seconds from ``"15m"``, ``"1h"``, ``"1d"``, ``"90s"`` or a number of seconds."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = float(value)
    else:
        match = _DURATION.match(str(value))
        if not match:
            raise ConfigError(f"Cannot read {name} {value!r}", "write e.g. 90s, 15m, 1h or 1d")
        seconds = float(match.group(1)) * _UNIT[match.group(2)]
    if seconds < 0:
        raise ConfigError(f"{name} must not be negative, got {value!r}")
    return seconds


def window_start(ts: float, window: float) -> float:
    """The start (epoch seconds) of the window holding ``ts``."""
    return math.floor(ts / window) * window


@dataclass
class WindowCounts:
    """What one entity's window holds."""

    count: int = 0
    negative: int = 0
    neutral: int = 0
    positive: int = 0
    score_sum: float = 0.0

    def numbers(self) -> dict[str, float]:
        """count, per-polarity counts and shares, mean score."""
        n = self.count
        return {
            "count": n, "negative_count": self.negative, "neutral_count": self.neutral,
            "positive_count": self.positive,
            "negative_share": self.negative / n if n else 0.0, "neutral_share": self.neutral / n if n else 0.0,
            "positive_share": self.positive / n if n else 0.0, "mean_score": self.score_sum / n if n else 0.0,
        }


@dataclass
class Ewm:
    """An exponentially weighted mean and variance."""

    mean: float = 0.0
    var: float = 0.0
    n: int = 0

    def update(self, x: float, alpha: float) -> None:
        """Move towards ``x`` (the first value sets the mean)."""
        if self.n == 0:
            self.mean, self.var = x, 0.0
        else:
            delta = x - self.mean
            self.mean += alpha * delta
            self.var = (1 - alpha) * (self.var + alpha * delta * delta)
        self.n += 1

    def z(self, x: float, floor: float) -> float:
        """How many (floored) standard deviations ``x`` lies above the mean (0 before any value)."""
        return 0.0 if self.n == 0 else (x - self.mean) / max(math.sqrt(self.var), floor)


def _share_z(share: float, baseline: Ewm, count: int) -> float:
    """How unusual ``share`` is among ``count`` texts if each text had the baseline's chance (binomial).

    Measured on the arcsine scale, where a binomial share is close to normal with variance
    1 / (4 count) even for small shares and counts; the plain (share - p) / sqrt(p (1 - p) / n)
    overstates a rise from a small p (its upper tail is much heavier than a normal's).
    """
    if baseline.n == 0 or count == 0:
        return 0.0
    p = min(max(baseline.mean, SHARE_FLOOR), 1 - SHARE_FLOOR)
    return 2 * math.sqrt(count) * (math.asin(math.sqrt(share)) - math.asin(math.sqrt(p)))


@dataclass
class Baseline:
    """One entity's usual level: EWMAs of count (every window, empty ones too) and of shares and score."""

    windows: int = 0
    count: Ewm = field(default_factory=Ewm)
    negative_share: Ewm = field(default_factory=Ewm)
    positive_share: Ewm = field(default_factory=Ewm)
    mean_score: Ewm = field(default_factory=Ewm)

    def numbers(self, counts: WindowCounts) -> dict[str, float]:
        """The window's numbers with the baseline's and the z-scores (every field a rule may name)."""
        values = counts.numbers()
        count_floor = max(1.0, math.sqrt(max(self.count.mean, 0.0)))  # Poisson-like noise on small counts
        values.update({
            "baseline_windows": self.windows,
            "baseline_count": self.count.mean,
            "baseline_negative_share": self.negative_share.mean,
            "baseline_positive_share": self.positive_share.mean,
            "baseline_mean_score": self.mean_score.mean,
            "count_z": self.count.z(values["count"], count_floor),
            "negative_share_z": _share_z(values["negative_share"], self.negative_share, values["count"]),
            "positive_share_z": _share_z(values["positive_share"], self.positive_share, values["count"]),
            "mean_score_z": self.mean_score.z(values["mean_score"], SCORE_STD_FLOOR),
            "count_ratio": values["count"] / max(self.count.mean, 1e-9) if self.count.n else 0.0,
            "negative_share_delta": values["negative_share"] - self.negative_share.mean if values["count"] else 0.0,
            "positive_share_delta": values["positive_share"] - self.positive_share.mean if values["count"] else 0.0,
        })
        return values

    def update(self, counts: WindowCounts, alpha: float) -> None:
        """Fold a closed window in (shares and score only from windows that have events)."""
        self.windows += 1
        self.count.update(float(counts.count), alpha)
        if counts.count:
            values = counts.numbers()
            self.negative_share.update(values["negative_share"], alpha)
            self.positive_share.update(values["positive_share"], alpha)
            self.mean_score.update(values["mean_score"], alpha)

    def to_dict(self) -> dict:
        """For storage (JSON)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict | None) -> Baseline:
        """Back from ``to_dict``."""
        if not data:
            return cls()
        return cls(windows=data["windows"], **{k: Ewm(**data[k]) for k in
                                               ("count", "negative_share", "positive_share", "mean_score")})
