"""The report's plots (plotly figures as HTML fragments without the plotly.js library)."""

from __future__ import annotations

from typing import Any

MAXIMIZE = {"accuracy", "macro_f1", "micro_f1", "f1", "precision", "recall", "rouge_l"}


def _fragment(figure: Any) -> str:
    figure.update_layout(height=360, margin={"l": 50, "r": 20, "t": 50, "b": 40}, template="plotly_white")
    return figure.to_html(full_html=False, include_plotlyjs=False)


def learning_curves(history: list[dict], primary: str | None) -> list[str]:
    """Loss and primary metric against the optimizer step, one line per split (from metrics.jsonl)."""
    import plotly.graph_objects as go

    out = []
    for key, title in (("loss", "Loss"), (primary, f"Validation {primary}")):
        if not key:
            continue
        figure = go.Figure()
        for split in sorted({row.get("split", "validation") for row in history}):
            points = [(row.get("step"), _value(row, key)) for row in history if row.get("split", "validation") == split]
            points = [(s, v) for s, v in points if s is not None and v is not None]
            if points:
                figure.add_trace(go.Scatter(x=[p[0] for p in points], y=[p[1] for p in points],
                                            mode="lines+markers", name=split))
        if figure.data:
            figure.update_layout(title=title, xaxis_title="step", yaxis_title=key)
            out.append(_fragment(figure))
    return out


def _value(row: dict, key: str) -> float | None:
    value = row.get(key)
    if value is None and isinstance(row.get("metrics"), dict):
        value = row["metrics"].get(key)
    return float(value) if isinstance(value, int | float) else None


def confusion_matrix(matrix: list[list[int]], labels: list[str], split: str) -> str:
    """A heatmap of true (rows) against predicted (columns) labels, counts written in the cells."""
    import plotly.graph_objects as go

    names = [str(label) for label in labels]
    figure = go.Figure(go.Heatmap(z=matrix, x=names, y=names, colorscale="Blues", text=matrix,
                                  texttemplate="%{text}", hovertemplate="true %{y}<br>predicted %{x}: %{z}"))
    figure.update_layout(title=f"Confusion matrix ({split})", xaxis_title="predicted", yaxis_title="true",
                         yaxis_autorange="reversed")
    return _fragment(figure)


def hpo_history(trials: list[dict], metric: str | None, direction: str = "maximize") -> str:
    """Each trial's value (colour: strategy) and the best value so far."""
    import plotly.graph_objects as go

    done = [t for t in trials if isinstance(t.get("value"), int | float)]
    figure = go.Figure()
    for strategy in sorted({str(t.get("params", {}).get("strategy", "")) for t in done}):
        subset = [t for t in done if str(t.get("params", {}).get("strategy", "")) == strategy]
        figure.add_trace(go.Scatter(x=[t["number"] for t in subset], y=[t["value"] for t in subset], mode="markers",
                                    name=strategy or "trial", marker={"size": 10}))
    best, xs, ys = None, [], []
    for trial in sorted(done, key=lambda t: t["number"]):
        value = trial["value"]
        better = best is None or (value > best if direction == "maximize" else value < best)
        best = value if better else best
        xs.append(trial["number"])
        ys.append(best)
    if xs:
        figure.add_trace(go.Scatter(x=xs, y=ys, mode="lines", name="best so far", line={"shape": "hv"}))
    pruned = [t for t in trials if t.get("state") == "PRUNED"]
    figure.update_layout(title=f"Hyperparameter search: {len(done)} trials finished, {len(pruned)} pruned",
                         xaxis_title="trial", yaxis_title=metric or "value")
    return _fragment(figure)
