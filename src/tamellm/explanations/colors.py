"""The diverging colour scale shared by the HTML and terminal renderers.

Positive scores (pushing toward the label) are blue, negative ones red, zero white;
the intensity is the score divided by the largest absolute score of that view.
Unsigned scores (attention rollout) use the blue half only.
"""

from __future__ import annotations

POSITIVE = (33, 102, 172)  # blue
NEGATIVE = (178, 24, 43)  # red


def scale(scores: list[float]) -> float:
    """The normaliser of a view: the largest absolute score (1.0 when all are zero)."""
    peak = max((abs(s) for s in scores), default=0.0)
    return peak if peak > 0 else 1.0


def color(score: float, peak: float) -> tuple[int, int, int]:
    """The RGB colour of ``score`` on a white-centred diverging scale."""
    t = max(-1.0, min(1.0, score / peak))
    end = POSITIVE if t >= 0 else NEGATIVE
    a = abs(t)
    return tuple(round(255 + (c - 255) * a) for c in end)


def text_color(score: float, peak: float) -> str:
    """Black on light backgrounds, white on strong ones."""
    return "#ffffff" if abs(score / peak) > 0.6 else "#111111"
