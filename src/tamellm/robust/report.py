"""The robustness result as JSON and as one self-contained HTML page (no scripts, no network)."""

from __future__ import annotations

import html
import json
import os
from pathlib import Path

from tamellm.robust.runner import RobustnessResult

STYLE = """body{font-family:system-ui,sans-serif;margin:2rem;max-width:70rem;color:#222}
table{border-collapse:collapse;margin:1rem 0}td,th{border:1px solid #ccc;padding:.3rem .6rem;text-align:left}
td.n{text-align:right;font-variant-numeric:tabular-nums}.bad{background:#fde2e2}.ok{background:#e5f5e5}
.ex{margin:.5rem 0 1rem 1rem;font-size:.9rem}.del{color:#a00}.ins{color:#060;font-weight:600}code{background:#f3f3f3}"""


def _pct(value: float) -> str:
    return f"{100 * value:.1f}%"


def _tests_table(result: RobustnessResult) -> str:
    rows = []
    for t in result.tests:
        shade = "" if not t.examples else ("bad" if t.failure_rate >= 0.1 else "ok")
        rows.append(f"<tr class='{shade}'><td>{html.escape(t.name)}</td><td>{t.kind}</td><td class=n>{t.examples}"
                    f"</td><td class=n>{_pct(t.failure_rate) if t.examples else '-'}</td><td class=n>"
                    f"{_pct(t.accuracy) if t.examples else '-'}</td><td>{html.escape(t.description)}</td></tr>")
    return ("<table><tr><th>test</th><th>kind</th><th>texts changed</th><th>failure rate</th><th>accuracy</th>"
            "<th>what it does</th></tr>" + "".join(rows) + "</table>")


def _examples(result: RobustnessResult) -> str:
    parts = []
    for t in result.tests:
        if not t.worst:
            continue
        parts.append(f"<h3>{html.escape(t.name)}</h3>")
        for ex in t.worst:
            if "expected" in ex:  # an NER failure: the entity sets, not a label
                parts.append(_ner_example(ex))
                continue
            why = ", ".join(f"{html.escape(w)} ({s:+.3f})" for w, s in ex.get("explanation") or [])
            parts.append(
                f"<div class=ex><div>{html.escape(ex['text'])}</div><div>&rarr; {html.escape(ex['perturbed'])}</div>"
                f"<div>gold <b>{html.escape(ex['label'])}</b>; prediction {html.escape(ex['before'])} "
                f"({ex['before_probability']:.2f}) &rarr; {html.escape(ex['after'])} (p of "
                f"{html.escape(ex['before'])}: {ex['after_probability_of_before']:.2f})</div>"
                + (f"<div>words behind the new prediction: {why}</div>" if why else "") + "</div>")
    return "".join(parts) or "<p>No failures.</p>"


def _ner_example(ex: dict) -> str:
    def names(key: str) -> str:
        return html.escape(", ".join(ex.get(key) or []) or "none")

    return (f"<div class=ex><div>{html.escape(ex['text'])}</div><div>&rarr; {html.escape(ex['perturbed'])}</div>"
            f"<div>entities expected: {names('expected')}; found: {names('found')}</div><div>lost: "
            f"<span class=del>{names('lost')}</span>; extra: <span class=ins>{names('extra')}</span></div></div>")


def _attack(result: RobustnessResult) -> str:
    a = result.attack
    if not a:
        return "<p>The attack was not run.</p>"
    head = (f"<p>Greedy synonym substitution ranked by <code>{html.escape(str(a['method']))}</code> attributions, "
            f"synonyms from {html.escape(str(a.get('synonyms')))}, at most {_pct(a['max_fraction'])} of the words: "
            f"<b>{_pct(a['success_rate'])}</b> of {a['attacked']} correctly classified texts flipped, "
            f"{a['mean_words_changed']:.2f} words changed on average ({_pct(a['mean_fraction_changed'])}), "
            f"{a['mean_queries']:.1f} model calls per text.</p>")
    rows = "".join(f"<div class=ex><div>{html.escape(e['text'])}</div><div>&rarr; {html.escape(e['adversarial'])}"
                   f"</div><div>{', '.join(html.escape(f'{a} → {b}') for a, b in e.get('swaps', []))}</div></div>"
                   for e in a.get("examples", []))
    return head + rows


def _what(result: RobustnessResult) -> str:
    if result.task == "ner":
        return (f"clean entity F1 <b>{_pct(result.clean_accuracy)}</b> (the tests' accuracy column is entity F1 "
                "too). A failure: the set of entities found in the sentence changed (a swapped entity counts as "
                "its replacement; entities in an appended sentence are not compared)")
    return (f"clean accuracy <b>{_pct(result.clean_accuracy)}</b>. A failure: an invariance test changed the "
            "prediction, a directional test did not move it as expected")


def render_html(result: RobustnessResult) -> str:
    """The report page: clean accuracy, the tests table, the attack and the worst failures with explanations."""
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>robustness of {html.escape(result.model)}"
            f"</title><style>{STYLE}</style></head><body><h1>Robustness of {html.escape(result.model)}</h1>"
            f"<p>{result.rows} texts of <code>{html.escape(result.data)}</code> (seed {result.seed}); "
            f"{_what(result)}. Entities: {html.escape(result.entities_source)}; "
            f"synonyms: {html.escape(result.synonyms_source)}.</p><h2>Tests</h2>{_tests_table(result)}"
            f"<h2>Adversarial search</h2>{_attack(result)}<h2>Worst failures</h2>{_examples(result)}"
            "</body></html>")


def default_output(model: object) -> Path | None:
    """Where the report goes when no folder is named: a run folder (it holds result.json) keeps its own
    robustness.json beside its results, so its run report (``tamellm report RUN``) shows the section."""
    if isinstance(model, str | os.PathLike) and (Path(model) / "result.json").is_file():
        return Path(model)
    return None


def write_report(result: RobustnessResult, folder: str | os.PathLike) -> tuple[Path, Path]:
    """Write ``robustness.json`` and ``robustness.html`` into ``folder``; return their paths."""
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    json_path, html_path = out / "robustness.json", out / "robustness.html"
    for path, text in ((json_path, json.dumps(result.to_dict(), indent=2)), (html_path, render_html(result))):
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
    return html_path, json_path
