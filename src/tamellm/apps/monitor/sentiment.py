"""Sentiment of a batch of texts through any classifier folder, mapped to negative / neutral / positive."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tamellm.errors import ConfigError

POLARITIES = ("negative", "neutral", "positive")


def parse_label_map(spec: str | dict[str, str] | None) -> dict[str, str]:
    """``"bearish=negative,bullish=positive"`` (or a dict) as {model label: polarity}."""
    if not spec:
        return {}
    if isinstance(spec, str):
        pairs = {}
        for part in spec.split(","):
            if not part.strip():
                continue
            if "=" not in part:
                raise ConfigError(f"Label map entry '{part.strip()}' has no '='",
                                  "write MODEL_LABEL=POLARITY pairs, e.g. bearish=negative,bullish=positive")
            label, polarity = part.split("=", 1)
            pairs[label.strip()] = polarity.strip()
        spec = pairs
    for label, polarity in spec.items():
        if polarity not in POLARITIES:
            raise ConfigError(f"Label map sends '{label}' to '{polarity}'", f"polarities: {', '.join(POLARITIES)}")
    return {str(k): str(v) for k, v in spec.items()}


def resolve_mapping(model_labels: Sequence[str], label_map: dict[str, str]) -> dict[str, str]:
    """{model label: polarity} for every label of the model; unmapped labels must be polarities already."""
    unknown = [k for k in label_map if k not in model_labels]
    if unknown:
        raise ConfigError(f"Label map names {unknown}, which the model does not have",
                          f"the model's labels: {', '.join(model_labels)}")
    mapping = {}
    for label in model_labels:
        polarity = label_map.get(label, label.lower() if label.lower() in POLARITIES else None)
        if polarity is None:
            raise ConfigError(f"The model's label '{label}' is not negative / neutral / positive",
                              f"map it with --label-map, e.g. {label}=negative "
                              f"(the model's labels: {', '.join(model_labels)})")
        mapping[label] = polarity
    return mapping


@dataclass(frozen=True)
class Sentiment:
    """The polarity of one text and its score in [-1, 1]: P(positive) - P(negative)."""

    polarity: str
    score: float
    negative: float  # P(negative), used to rank example texts


class SentimentModel:
    """A classifier loaded once through ``tamellm.load``; ``predict`` takes a batch of texts."""

    def __init__(self, model: str, label_map: dict[str, str] | str | None = None) -> None:
        import tamellm.api as api

        self.name = str(model)
        self.model = api.load(model)
        if self.model.task != "classify":
            raise ConfigError(f"Model '{model}' is a {self.model.task} model, not a classifier",
                              "pass a fine-tuned classifier folder (tamellm train --data ...)")
        probe = self.model.predict(["ok"])
        probe = probe[0] if isinstance(probe, list) else probe
        self.mapping = resolve_mapping(list(probe.scores), parse_label_map(label_map))

    def predict(self, texts: Sequence[str]) -> list[Sentiment]:
        """One ``Sentiment`` per text (the model batches internally)."""
        if not texts:
            return []
        results = self.model.predict(list(texts))
        results = results if isinstance(results, list) else [results]
        out = []
        for result in results:
            shares = dict.fromkeys(POLARITIES, 0.0)
            for label, p in result.scores.items():
                shares[self.mapping[label]] += float(p)
            out.append(Sentiment(self.mapping[result.label], shares["positive"] - shares["negative"],
                                 shares["negative"]))
        return out
