"""HTML rendering: highlighted words, a diverging colour scale, one tab per explained label.

Self-contained (inline CSS and a few lines of JavaScript; no fonts, scripts or images
fetched), so the file opens offline. ``explanation_fragment`` gives a fragment (no
<html>) for run reports; ``render_html`` a whole page; ``save_html`` writes it safely.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from jinja2 import Environment

from tamellm.explanations.colors import color, scale, text_color
from tamellm.explanations.results import Explanation, WordScore

_ENV = Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True)

STYLE = """
.tx-expl{font-family:system-ui,sans-serif;margin:1em 0;max-width:60em}
.tx-expl .tx-tabs{display:flex;gap:.3em;flex-wrap:wrap;margin-bottom:.4em}
.tx-expl button{border:1px solid #bbb;background:#f4f4f4;border-radius:4px;padding:.2em .6em;cursor:pointer}
.tx-expl button.tx-on{background:#2166ac;color:#fff;border-color:#2166ac}
.tx-expl .tx-panel{display:none;line-height:2;font-size:1.05em}
.tx-expl .tx-panel.tx-on{display:block}
.tx-expl .tx-w{padding:.1em .15em;border-radius:3px}
.tx-expl .tx-meta{color:#555;font-size:.85em}
.tx-expl .tx-legend{display:inline-block;width:12em;height:.8em;vertical-align:middle;
 background:linear-gradient(90deg,rgb(178,24,43),#fff,rgb(33,102,172))}
"""

SCRIPT = """
function txShow(btn){var box=btn.closest('.tx-expl');
 box.querySelectorAll('.tx-on').forEach(function(e){e.classList.remove('tx-on')});
 btn.classList.add('tx-on');box.querySelector('#'+btn.dataset.panel).classList.add('tx-on');}
"""

FRAGMENT = _ENV.from_string("""
{% for ex in items %}
<div class="tx-expl">
  <div class="tx-meta">{{ ex.task }} · model <b>{{ ex.model }}</b> · method <b>{{ ex.method }}</b>
  · {{ ex.seconds }} s{% if ex.signed %} · <span class="tx-legend"></span> against ← → toward the label{% endif %}</div>
  <div class="tx-tabs">
  {% for tab in ex.tabs %}
    <button class="{{ 'tx-on' if tab.active }}" data-panel="{{ tab.id }}" onclick="txShow(this)">{{ tab.label }}
    {% if tab.prob is not none %}({{ tab.prob }}){% endif %}</button>
  {% endfor %}
  </div>
  {% for tab in ex.tabs %}
  <div class="tx-panel {{ 'tx-on' if tab.active }}" id="{{ tab.id }}">
    {% for piece in tab.pieces %}{% if piece.word %}<span class="tx-w"
 style="background:{{ piece.bg }};color:{{ piece.fg }}" title="{{ piece.score }}">{{ piece.text }}</span>
{%- else %}{{ piece.text }}{% endif %}{% endfor %}
  </div>
  {% endfor %}
</div>
{% endfor %}
""")

PAGE = _ENV.from_string("""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{{ title }}</title>
<style>{{ style }}</style><script>{{ script }}</script></head>
<body><h1>{{ title }}</h1>{{ body }}</body></html>
""")


def _pieces(text: str, words: list[WordScore], signed: bool) -> list[dict]:
    """The text cut into highlighted words and the plain text between them."""
    peak = scale([w.score for w in words])
    pieces, pos = [], 0
    for w in sorted(words, key=lambda w: w.start):
        if w.start < pos:
            continue
        pieces.append({"word": False, "text": text[pos:w.start]})
        score = w.score if signed else abs(w.score)
        r, g, b = color(score, peak)
        pieces.append({"word": True, "text": text[w.start:w.end], "bg": f"rgb({r},{g},{b})",
                       "fg": text_color(score, peak), "score": f"{w.score:+.4f}"})
        pos = w.end
    pieces.append({"word": False, "text": text[pos:]})
    return pieces


def _view(ex: Explanation, index: int) -> dict:
    per_label = ex.per_label or {ex.label: ex.words}
    tabs = []
    for j, (label, words) in enumerate(per_label.items()):
        prob = ex.probabilities.get(label)
        tabs.append({"id": f"tx-{index}-{j}", "label": label, "active": label == ex.label,
                     "prob": None if prob is None else round(prob, 3), "pieces": _pieces(ex.text, words, ex.signed)})
    if not any(t["active"] for t in tabs):
        tabs[0]["active"] = True
    return {"task": ex.task or "model", "model": ex.model, "method": ex.method, "seconds": round(ex.seconds, 3),
            "signed": ex.signed, "tabs": tabs}


def explanation_fragment(explanations: Explanation | list[Explanation], include_style: bool = True) -> str:
    """An HTML fragment (no <html>) showing the explanations, with its style and script inline."""
    items = explanations if isinstance(explanations, list) else [explanations]
    body = FRAGMENT.render(items=[_view(ex, i) for i, ex in enumerate(items)])
    if not include_style:
        return body
    return f"<style>{STYLE}</style><script>{SCRIPT}</script>{body}"


def render_html(explanations: Explanation | list[Explanation], title: str = "tamellm explanation") -> str:
    """A whole self-contained HTML page."""
    from markupsafe import Markup

    body = Markup(explanation_fragment(explanations, include_style=False))
    return PAGE.render(title=title, style=Markup(STYLE), script=Markup(SCRIPT), body=body)


def save_html(path: str | os.PathLike, explanations: Explanation | list[Explanation],
              title: str = "tamellm explanation") -> Path:
    """Write the page to ``path`` (through a temporary file, then rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(prefix=".explain-", suffix=".html", dir=path.parent)
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        out.write(render_html(explanations, title))
    os.replace(tmp, path)
    return path
