"""Evaluation metrics for every task (scikit-learn and seqeval; ROUGE-L by hand).

Which metric a task optimises is declared in its ``TaskSpec`` (``primary_metric``).
"""

from __future__ import annotations

from collections.abc import Sequence


def classification_metrics(
    y_true: Sequence, y_pred: Sequence, labels: Sequence[str], multi_label: bool = False
) -> dict:
    """Accuracy, macro/micro F1, a per-class report and (single-label) a confusion matrix.

    Single-label: ``y_true``/``y_pred`` are label names. Multi-label: lists of names per text.
    """
    from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support
    from sklearn.preprocessing import MultiLabelBinarizer

    labels = list(labels)
    if multi_label:
        binarizer = MultiLabelBinarizer(classes=labels)
        true, pred = binarizer.fit_transform(y_true), binarizer.transform(y_pred)
    else:
        true, pred = list(y_true), list(y_pred)
    kwargs = {} if multi_label else {"labels": labels}
    precision, recall, f1, support = precision_recall_fscore_support(true, pred, zero_division=0, **kwargs)
    result = {
        "accuracy": float(accuracy_score(true, pred)),  # multi-label: exact-match ratio
        "macro_f1": float(f1_score(true, pred, average="macro", zero_division=0, **kwargs)),
        "micro_f1": float(f1_score(true, pred, average="micro", zero_division=0, **kwargs)),
        "per_class": {
            label: {"precision": float(p), "recall": float(r), "f1": float(f), "support": int(s)}
            for label, p, r, f, s in zip(labels, precision, recall, f1, support, strict=True)
        },
        "labels": labels,
        "examples": len(y_true),
    }
    if not multi_label:
        result["confusion_matrix"] = confusion_matrix(true, pred, labels=labels).tolist()
    return result


def ner_metrics(true_tags: Sequence[Sequence[str]], pred_tags: Sequence[Sequence[str]]) -> dict:
    """Entity-level precision, recall and F1 (seqeval, IOB2), overall and per entity type."""
    from seqeval.metrics import classification_report, f1_score, precision_score, recall_score

    true, pred = [list(t) for t in true_tags], [list(p) for p in pred_tags]
    report = classification_report(true, pred, output_dict=True, zero_division=0)
    per_type = {k: {"precision": float(v["precision"]), "recall": float(v["recall"]), "f1": float(v["f1-score"]),
                    "support": int(v["support"])} for k, v in report.items() if not k.endswith("avg")}
    return {
        "f1": float(f1_score(true, pred, zero_division=0)),
        "precision": float(precision_score(true, pred, zero_division=0)),
        "recall": float(recall_score(true, pred, zero_division=0)),
        "per_type": per_type,
        "examples": len(true),
    }


def _lcs_length(a: list[str], b: list[str]) -> int:
    # ROUGE-L needs only the longest common subsequence; a 10-line DP beats a new dependency.
    previous = [0] * (len(b) + 1)
    for token in a:
        current = [0]
        for j, other in enumerate(b):
            current.append(previous[j] + 1 if token == other else max(previous[j + 1], current[j]))
        previous = current
    return previous[-1]


def rouge_l(reference: str, prediction: str) -> float:
    """ROUGE-L F1 between two texts (lower-cased whitespace tokens)."""
    ref, pred = reference.lower().split(), prediction.lower().split()
    if not ref or not pred:
        return 0.0
    lcs = _lcs_length(ref, pred)
    if lcs == 0:
        return 0.0
    precision, recall = lcs / len(pred), lcs / len(ref)
    return 2 * precision * recall / (precision + recall)


def generation_metrics(references: Sequence[str], predictions: Sequence[str]) -> dict:
    """Mean ROUGE-L F1 over pairs of reference and generated texts."""
    scores = [rouge_l(r, p) for r, p in zip(references, predictions, strict=True)]
    return {"rouge_l": sum(scores) / len(scores) if scores else 0.0, "examples": len(scores)}
