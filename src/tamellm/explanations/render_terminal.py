"""Terminal rendering with rich: each word on a background from the diverging scale."""

from __future__ import annotations

from rich.console import Group
from rich.text import Text

from tamellm.explanations.colors import color, scale, text_color
from tamellm.explanations.results import Explanation


def highlighted(text: str, words, signed: bool = True) -> Text:
    """``text`` with each word coloured by its score."""
    peak = scale([w.score for w in words])
    out, pos = Text(), 0
    for w in sorted(words, key=lambda w: w.start):
        if w.start < pos:
            continue
        out.append(text[pos:w.start])
        score = w.score if signed else abs(w.score)
        r, g, b = color(score, peak)
        out.append(text[w.start:w.end], style=f"{text_color(score, peak)} on rgb({r},{g},{b})")
        pos = w.end
    out.append(text[pos:])
    return out


def render_terminal(explanation: Explanation, all_labels: bool = True, top: int = 5) -> Group:
    """A rich renderable: a header, the highlighted text per label, the top words."""
    parts = [Text.assemble(("method ", "dim"), (explanation.method, "bold"), ("  label ", "dim"),
                           (explanation.label, "bold"))]
    per_label = explanation.per_label if all_labels and explanation.per_label else {explanation.label:
                                                                                     explanation.words}
    for label, words in per_label.items():
        prob = explanation.probabilities.get(label)
        head = f"toward {label}" + (f" ({prob:.3f})" if prob is not None else "")
        parts.append(Text(head, style="bold underline"))
        parts.append(highlighted(explanation.text, words, explanation.signed))
        best = sorted(words, key=lambda w: -w.score)[:top]
        parts.append(Text("top: " + ", ".join(f"{w.word} {w.score:+.3f}" for w in best), style="dim"))
    return Group(*parts)
