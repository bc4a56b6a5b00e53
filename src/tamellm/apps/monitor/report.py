"""``monitor report``: one self-contained HTML page from a state file (plotly's JS inline, no CDN)."""

from __future__ import annotations

import html
import os
from pathlib import Path

from tamellm.apps.monitor.events import iso
from tamellm.apps.monitor.state import Store
from tamellm.errors import DataError

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1100px; color: #222; }
h1 { font-size: 1.5em; } h2 { margin-top: 2em; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; width: 100%; font-size: .9em; }
td, th { border-bottom: 1px solid #eee; padding: .3em .5em; text-align: left; vertical-align: top; }
.kind { font-weight: 600; } .recovered { color: #2a7; } .fired { color: #c33; }
.muted { color: #777; }
"""


def _figure(entity: str, windows: list[dict], alerts: list[dict]) -> str:
    from plotly.subplots import make_subplots

    x = [iso(w["window_start"]) for w in windows]
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.add_bar(x=x, y=[w.get("count", 0) for w in windows], name="texts", marker_color="#ccd", opacity=0.6,
                secondary_y=True)
    fig.add_scatter(x=x, y=[w.get("negative_share", 0) for w in windows], name="negative share",
                    mode="lines+markers", line_color="#c33")
    fig.add_scatter(x=x, y=[w.get("positive_share", 0) for w in windows], name="positive share",
                    mode="lines", line_color="#2a7")
    fig.add_scatter(x=x, y=[w.get("baseline_negative_share", 0) for w in windows], name="baseline (negative)",
                    mode="lines", line={"color": "#c33", "dash": "dot"})
    for alert in alerts:
        recovered = alert["kind"].endswith("_recovered")
        fig.add_vrect(x0=alert["window_start"], x1=alert["window_end"], opacity=0.25, line_width=0,
                      fillcolor="#2a7" if recovered else "#c33")
        fig.add_annotation(x=alert["window_start"], y=1.02, yref="paper", text=html.escape(alert["kind"]),
                           showarrow=False, font={"size": 10})
    fig.update_layout(title=f"{entity}: sentiment per window", height=360, margin={"t": 50, "b": 30},
                      legend={"orientation": "h"}, yaxis={"range": [0, 1], "title": "share"},
                      yaxis2={"title": "texts"})
    return fig.to_html(full_html=False, include_plotlyjs=False)


def _alert_rows(alerts: list[dict]) -> str:
    rows = []
    for alert in alerts:
        css = "recovered" if alert["kind"].endswith("_recovered") else "fired"
        numbers = ", ".join(f"{k} = {v}" for k, v in alert.get("fired_by", {}).items())
        examples = "".join(f"<li>{html.escape(e['text'])} <span class=muted>({e['polarity']}, {e['score']})</span>"
                           + (" <span class=muted>words: " + html.escape(", ".join(w["word"] for w in e["explanation"]))
                              + "</span>" if e.get("explanation") else "") + "</li>"
                           for e in alert.get("examples", []))
        rows.append(f"<tr><td class='kind {css}'>{html.escape(alert['kind'])}</td>"
                    f"<td>{html.escape(alert['window_start'])}<br>{html.escape(alert['window_end'])}</td>"
                    f"<td>{html.escape(numbers)}</td><td><ul>{examples}</ul></td></tr>")
    return ("<table><tr><th>alert</th><th>window</th><th>numbers</th><th>top texts</th></tr>"
            + "".join(rows) + "</table>") if rows else "<p class=muted>No alert.</p>"


def render_report(store: Store) -> str:
    """The page's HTML."""
    from plotly.offline import get_plotlyjs

    counts = store.counts()
    sections = []
    for entity in store.entity_names():
        windows = store.entity_windows(entity)
        alerts = store.alerts(entity)
        sections.append(f"<h2>{html.escape(entity)}</h2>"
                        + (_figure(entity, windows, alerts) if windows else "<p class=muted>No closed window.</p>")
                        + _alert_rows(alerts))
    summary = (f"{counts['events']} events ({counts['late_events']} too late to count), {counts['mentions']} "
               f"entity mentions, {counts['alerts']} alerts. State: {html.escape(str(store.path))}")
    return ("<!doctype html><html><head><meta charset='utf-8'><title>tamellm monitor</title>"
            f"<style>{STYLE}</style><script>{get_plotlyjs()}</script></head><body>"
            f"<h1>Sentiment monitor</h1><p>{summary}</p>{''.join(sections) or '<p>No entity seen yet.</p>'}"
            "</body></html>")


def write_report(state: str | os.PathLike, output: str | os.PathLike | None = None) -> Path:
    """Write the report of ``state`` to ``output`` (default: the state file's name with .html), atomically."""
    state = Path(state)
    if not state.is_file():
        raise DataError(f"State file {state} not found", "pass the --state file of `tamellm monitor run`")
    store = Store(state)
    try:
        page = render_report(store)
    finally:
        store.close()
    out = Path(output) if output else state.with_suffix(".html")
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(page, encoding="utf-8")
    tmp.replace(out)
    return out
