"""The global view of a classifier: which words push each class across a dataset.

Two complementary answers:
- aggregated attributions: each text explained toward every class; a word's push is
  the sum of its scores over the dataset (reported with its count and mean);
- an interpretable surrogate: scikit-learn logistic regression on bag-of-words, trained
  to mimic the model's predictions; its fidelity (agreement with the model on texts it
  did not see) says how far its coefficients can be trusted.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np

from tamellm.errors import InputError
from tamellm.explanations.core import explain_target
from tamellm.explanations.target import build_target

log = logging.getLogger(__name__)


@dataclass
class GlobalExplanation:
    """Top words per class from attributions and from a surrogate, with its fidelity."""

    method: str
    texts: int
    top_words: dict[str, list[dict]]
    surrogate_words: dict[str, list[dict]]
    surrogate_fidelity: float
    surrogate_train_fidelity: float
    label_counts: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict:
        """A JSON-ready dict."""
        return {"method": self.method, "texts": self.texts, "top_words": self.top_words,
                "surrogate": {"words": self.surrogate_words, "fidelity": round(self.surrogate_fidelity, 4),
                              "train_fidelity": round(self.surrogate_train_fidelity, 4)},
                "label_counts": self.label_counts}


def predictions(model, texts: list[str], labels=None) -> list[str]:
    """The model's predicted label for each text (batched)."""
    if model.task == "zero-shot-classification":
        results = model.predict(texts, labels=labels)
    elif model.task == "classify":
        results = model.predict(texts)
    else:
        raise InputError(f"A global view needs a classifier, not a {model.task} model",
                         "use a fine-tuned classifier folder, or an encoder with labels (zero-shot)")
    return [r.label for r in results]


def attribution_words(model, texts: list[str], method: str | None, top_k: int, labels=None,
                      **options: object) -> tuple[str, dict[str, list[dict]]]:
    """Words with the largest summed push toward each class over ``texts``."""
    push: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    used = method
    for text in texts:
        target = build_target(model, text, labels=labels) if labels is not None else build_target(model, text)
        explanation = explain_target(target, method, all_labels=True, **options)
        used = explanation.method
        for label, words in explanation.per_label.items():
            for w in words:
                push[label][w.word.lower()].append(w.score)
    top = {}
    for label, words in push.items():
        rows = [{"word": w, "push": float(np.sum(s)), "mean": float(np.mean(s)), "count": len(s)}
                for w, s in words.items()]
        rows.sort(key=lambda r: -r["push"])
        top[label] = [{k: round(v, 4) if isinstance(v, float) else v for k, v in r.items()} for r in rows[:top_k]]
    return used or "", top


def surrogate(texts: list[str], predicted: list[str], top_k: int, seed: int = 0) -> tuple[dict, float, float]:
    """Fit a bag-of-words logistic regression to the model's predictions.

    Returns (top words per class by coefficient, held-out fidelity, training fidelity).
    """
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split

    classes = sorted(set(predicted))
    if len(classes) < 2:
        raise InputError(f"The model predicts only '{classes[0]}' on these texts, so no surrogate can be fitted",
                         "give texts on which the model predicts at least two classes")
    counts = np.unique(predicted, return_counts=True)[1]
    stratify = predicted if counts.min() >= 2 else None
    train_x, test_x, train_y, test_y = train_test_split(texts, predicted, test_size=0.25, random_state=seed,
                                                        stratify=stratify)
    vectorizer = CountVectorizer(lowercase=True, token_pattern=r"(?u)\b\w[\w']*\b", binary=True)
    features = vectorizer.fit_transform(train_x)
    clf = LogisticRegression(max_iter=2000, C=1.0, random_state=seed).fit(features, train_y)
    fidelity = float((clf.predict(vectorizer.transform(test_x)) == np.array(test_y)).mean())
    train_fidelity = float((clf.predict(features) == np.array(train_y)).mean())
    vocab = np.array(vectorizer.get_feature_names_out())
    coefs = clf.coef_ if len(clf.classes_) > 2 else np.stack([-clf.coef_[0], clf.coef_[0]])
    words = {}
    for label, row in zip(clf.classes_, coefs, strict=True):
        best = np.argsort(-row)[:top_k]
        words[str(label)] = [{"word": str(vocab[i]), "coefficient": round(float(row[i]), 4)} for i in best]
    return words, fidelity, train_fidelity


def global_explanation(model, texts: list[str], method: str | None = None, top_k: int = 15,
                       max_explained: int = 200, labels=None, seed: int = 0,
                       **options: object) -> GlobalExplanation:
    """Top words per class across ``texts`` and a surrogate model with its fidelity.

    The surrogate learns from every text; attributions are computed on the first
    ``max_explained`` texts (an explanation costs far more than a prediction).
    """
    texts = [t for t in texts if isinstance(t, str) and t.strip()]
    if len(texts) < 8:
        raise InputError(f"A global view needs at least 8 texts, got {len(texts)}", "pass a larger dataset")
    predicted = predictions(model, texts, labels)
    used, top = attribution_words(model, texts[:max_explained], method, top_k, labels, **options)
    words, fidelity, train_fidelity = surrogate(texts, predicted, top_k, seed)
    counts = {str(k): int(v) for k, v in zip(*np.unique(predicted, return_counts=True), strict=True)}
    log.info("global view: %d texts, surrogate fidelity %.3f", len(texts), fidelity)
    return GlobalExplanation(used, len(texts), top, words, fidelity, train_fidelity, counts)
