"""The report page (a jinja2 template, autoescaped; kept in Python so it ships with the package)."""

from __future__ import annotations

from jinja2 import Environment


def _format(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.4f}"
    return "" if value is None else str(value)


_ENV = Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True)
_ENV.filters["fmt"] = _format

PAGE = _ENV.from_string("""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{ title }}</title>
<style>
body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
h1{font-size:1.5em}h2{border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:1.6em}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ddd;padding:.25em .6em;text-align:right}
th{background:#f5f5f5}td:first-child,th:first-child{text-align:left}.muted{color:#777}
pre{background:#f7f7f7;padding:.8em;overflow:auto;max-height:30em}
.issue-error{color:#b00}.issue-warning{color:#a60}
</style>
{% if plotlyjs %}<script>{{ plotlyjs }}</script>{% endif %}
</head><body>
<h1>{{ title }}</h1>
<p class="muted">{{ folder }}</p>
<table>
<tr><th>task</th><td>{{ task }}</td></tr>
<tr><th>strategy</th><td>{{ strategy }}</td></tr>
<tr><th>primary metric</th><td>{{ primary }}</td></tr>
<tr><th>seconds</th><td>{{ seconds | fmt }}</td></tr>
{% if best_step is not none %}<tr><th>best step</th><td>{{ best_step }}</td></tr>{% endif %}
{% if stopped_early is not none %}<tr><th>stopped early</th><td>{{ stopped_early }}</td></tr>{% endif %}
{% if model %}<tr><th>model</th><td>{{ model }}</td></tr>{% endif %}
</table>

<h2 id="metrics">Metrics</h2>
{% if metric_rows %}
<table><tr><th>metric</th>{% for s in splits %}<th>{{ s }}</th>{% endfor %}</tr>
{% for row in metric_rows %}<tr><td>{{ row.name }}</td>
{% for s in splits %}<td>{{ row["values"][s] | fmt }}</td>{% endfor %}</tr>
{% endfor %}</table>
{% else %}<p class="muted">No metrics recorded.</p>{% endif %}

{% if curves %}<h2 id="learning-curves">Learning curves</h2>
{% for figure in curves %}{{ figure }}{% endfor %}{% endif %}

{% if confusion %}<h2 id="confusion-matrix">Confusion matrix</h2>{{ confusion }}{% endif %}

{% if per_class %}<h2 id="per-class">Per class ({{ per_class_split }})</h2>
<table><tr><th>class</th><th>precision</th><th>recall</th><th>f1</th><th>support</th></tr>
{% for name, row in per_class.items() %}<tr><td>{{ name }}</td><td>{{ row.precision | fmt }}</td>
<td>{{ row.recall | fmt }}</td><td>{{ row.f1 | fmt }}</td><td>{{ row.support }}</td></tr>
{% endfor %}</table>{% endif %}

{% if robustness %}<h2 id="robustness">Robustness</h2>
<p>{{ robustness.rows }} texts of {{ robustness.data }}: clean {{ robustness.metric }}
<b>{{ robustness.clean_accuracy | fmt }}</b>{% if robustness.page %}
(<a href="{{ robustness.page }}">worst failures with explanations</a>){% endif %}.
A failure: an invariance test changed the prediction{% if robustness.task == "ner" %} (the entities found){% endif %},
a directional test did not move it as expected.</p>
<table><tr><th>test</th><th>kind</th><th>texts changed</th><th>failure rate</th><th>{{ robustness.metric }}</th></tr>
{% for t in robustness.tests %}<tr><td>{{ t.name }}</td><td>{{ t.kind }}</td><td>{{ t.examples }}</td>
<td>{% if t.examples %}{{ t.failure_rate | fmt }}{% else %}-{% endif %}</td>
<td>{% if t.examples %}{{ t.accuracy | fmt }}{% else %}-{% endif %}</td></tr>
{% endfor %}</table>
{% if robustness.attack %}<p>Adversarial search: attack success rate
<b>{{ robustness.attack.success_rate | fmt }}</b> over {{ robustness.attack.attacked }} texts,
{{ robustness.attack.mean_words_changed | fmt }} words changed on average
(words ranked by {{ robustness.attack.method }}).</p>{% else %}<p class="muted">No adversarial search.</p>{% endif %}
{% endif %}

{% if hpo %}<h2 id="hpo">Hyperparameter search</h2>
<p>Backend {{ hpo.backend }}, metric {{ hpo.metric }} ({{ hpo.direction }});
best value {{ hpo.best_value | fmt }} in trial {{ hpo.best_trial }}.</p>
{% if hpo_plot %}{{ hpo_plot }}{% endif %}
<table><tr><th>trial</th><th>state</th><th>value</th><th>seconds</th><th>params</th></tr>
{% for t in hpo.trials %}<tr><td>{{ t.number }}</td><td>{{ t.state }}</td><td>{{ t.value | fmt }}</td>
<td>{{ t.seconds | fmt }}</td>
<td style="text-align:left">{% for k, v in t.params.items() %}{{ k }}={{ v | fmt }} {% endfor %}</td></tr>
{% endfor %}</table>{% endif %}

{% if params %}<h2 id="params">Hyperparameters</h2>
<table>{% for k, v in params.items() %}<tr><th>{{ k }}</th><td>{{ v | fmt }}</td></tr>{% endfor %}</table>{% endif %}

{% if data %}<h2 id="data">Data</h2>
{% if columns %}<p>Columns: text <b>{{ columns.text }}</b>, label <b>{{ columns.label }}</b>.
{{ columns.reason_text }} {{ columns.reason_label }}</p>{% endif %}
{% if issues %}<ul>{% for i in issues %}
<li class="issue-{{ i.level }}">{{ i.level }}: {{ i.message }}. Fix: {{ i.fix }}</li>
{% endfor %}</ul>{% endif %}
<details><summary>data.json</summary><pre>{{ data_json }}</pre></details>{% endif %}

{% if explanations %}<h2 id="explanations">Explanations</h2>{{ explanations }}{% endif %}
</body></html>
""")
