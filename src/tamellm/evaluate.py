"""Evaluate a model on a labelled file, and write its predictions to a CSV.

One evaluator per task in ``EVALUATORS`` (a registry: adding a task's evaluation is
adding a function): classification (accuracy, macro-F1, per-class report, confusion
matrix), NER (seqeval entity F1 on CoNLL / JSONL files), generation (ROUGE-L against
reference answers, and perplexity of the references).
"""

from __future__ import annotations

import logging
import math
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from tamellm.errors import DataError, InputError
from tamellm.metrics import PRIMARY_METRIC, classification_metrics, generation_metrics, ner_metrics

logger = logging.getLogger(__name__)

Evaluator = Callable[..., dict]
EVALUATORS: dict[str, Evaluator] = {}
PROMPT_NAMES = ("prompt", "question", "instruction", "input", "query", "text")
RESPONSE_NAMES = ("response", "answer", "output", "completion", "target", "reply")


def evaluator(task: str) -> Callable[[Evaluator], Evaluator]:
    """Decorator: register the evaluation of ``task``."""

    def add(fn: Evaluator) -> Evaluator:
        EVALUATORS[task] = fn
        return fn

    return add


def _model(model: Any) -> Any:
    from tamellm.tasks import TaskModel

    if isinstance(model, TaskModel):
        return model
    from tamellm.api import load

    return load(model)


def _table(data: str | os.PathLike | pd.DataFrame) -> tuple[pd.DataFrame, str]:
    if isinstance(data, pd.DataFrame):
        return data, "the data frame"
    from tamellm.data import read_table

    return read_table(data), str(data)


def _limit(frame: pd.DataFrame, limit: int | None) -> pd.DataFrame:
    return frame if limit is None or limit >= len(frame) else frame.iloc[:limit]


def _texts(frame: pd.DataFrame, column: str, source: str) -> list[str]:
    from tamellm.data import row_numbers

    texts = frame[column].fillna("").astype(str).tolist()
    empty = [label for label, t in zip(frame.index, texts, strict=True) if not t.strip()]
    if empty:
        unit, rows = row_numbers(frame, empty[:5])
        raise DataError(f"{source}: column '{column}' is empty on {unit}(s) {rows}", "fill or drop those rows")
    return texts


def _as_name(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # labels read as 1.0 when a column has a gap
    return str(value.item() if hasattr(value, "item") else value)


def evaluate(
    model: Any,
    data: str | os.PathLike | pd.DataFrame,
    text_column: str | None = None,
    label_column: str | None = None,
    limit: int | None = None,
    **options: Any,
) -> dict:
    """Score ``model`` (a loaded TaskModel, a folder or a catalog name) on the labelled ``data``.

    Returns the task's metrics plus ``task``, ``model``, ``data``, ``primary_metric``.
    Classification: accuracy, macro_f1, micro_f1, per_class, confusion_matrix, labels.
    NER: f1, precision, recall, per_type. Generation: rouge_l, perplexity.
    """
    loaded = _model(model)
    task = loaded.task
    if task not in EVALUATORS:
        raise InputError(f"cannot evaluate a '{task}' model", f"evaluation exists for: {', '.join(EVALUATORS)}")
    if limit is not None and limit < 1:
        raise InputError(f"limit must be at least 1, got {limit}")
    result = EVALUATORS[task](loaded, data, text_column=text_column, label_column=label_column, limit=limit,
                              **options)
    key = "classify-multi-label" if result.get("multi_label") else task
    result.update(task=task, model=loaded.name, data=str(data) if not isinstance(data, pd.DataFrame) else None,
                  primary_metric=PRIMARY_METRIC.get(key, ("", ""))[0] or None)
    return result


@evaluator("classify")
def _evaluate_classification(loaded: Any, data: Any, text_column: str | None, label_column: str | None,
                             limit: int | None, batch_size: int = 64) -> dict:
    from tamellm.data import infer_columns, split_labels

    frame, source = _table(data)
    choice = infer_columns(frame, text_column, label_column)
    if choice.label is None:
        raise DataError(f"{source} has no label column to evaluate against",
                        "name it with label_column= (--label-column)")
    frame = _limit(frame.dropna(subset=[choice.label]), limit)
    if frame.empty:
        raise DataError(f"{source}: no row has a label in column '{choice.label}'", "fill the label column")
    texts = _texts(frame, choice.text, source)
    names = loaded.labels
    multi = bool(getattr(loaded, "multi_label", False))
    predictions = loaded.predict(texts, batch_size=batch_size)
    if multi:
        truth = [[_as_name(x) for x in split_labels(v, choice.label_delimiter)] for v in frame[choice.label]]
        guessed = [p.labels for p in predictions]
    else:
        truth = [_as_name(v) for v in frame[choice.label]]
        guessed = [p.label for p in predictions]
    unknown = sorted({t for row in truth for t in (row if multi else [row])} - set(names))
    if unknown:
        raise DataError(f"{source}: column '{choice.label}' has labels the model does not know: {unknown[:10]}",
                        f"the model's labels are: {', '.join(names)}")
    metrics = classification_metrics(truth, guessed, names, multi_label=multi)
    metrics.update(multi_label=multi, columns={"text": choice.text, "label": choice.label,
                                               "why": [choice.reason_text, choice.reason_label]})
    return metrics


def _tags_from_entities(tokens: list[str], entities: list[Any]) -> tuple[str, list[str]]:
    """The text the tokens make joined by spaces, and the IOB2 tag of each token under ``entities``."""
    starts, position = [], 0
    for token in tokens:
        starts.append(position)
        position += len(token) + 1
    tags = ["O"] * len(tokens)
    for entity in entities:
        inside = [i for i, s in enumerate(starts) if s < entity.end and s + len(tokens[i]) > entity.start]
        for n, i in enumerate(inside):
            tags[i] = ("B-" if n == 0 else "I-") + entity.label
    return " ".join(tokens), tags


@evaluator("ner")
def _evaluate_ner(loaded: Any, data: Any, text_column: str | None, label_column: str | None,
                  limit: int | None, batch_size: int = 32) -> dict:
    from tamellm.data import read_ner

    sentences = [s for s in read_ner(data) if s["tokens"]]
    sentences = sentences[:limit] if limit else sentences
    if not sentences:
        raise DataError(f"{data} holds no sentence with tokens", "a CoNLL file or JSONL with text + entities")
    texts = [" ".join(s["tokens"]) for s in sentences]
    results = loaded.predict(texts, batch_size=batch_size)
    predicted = [_tags_from_entities(s["tokens"], r.entities)[1] for s, r in zip(sentences, results, strict=True)]
    metrics = ner_metrics([s["tags"] for s in sentences], predicted)
    metrics["multi_label"] = False
    return metrics


def _generation_columns(frame: pd.DataFrame, prompt: str | None, response: str | None, source: str) -> tuple:
    from tamellm.data import require_column

    lower = {str(c).lower(): c for c in frame.columns}

    def pick(given: str | None, names: tuple[str, ...], role: str, avoid: str | None) -> str:
        if given is not None:
            require_column(frame, given, role, source)
            return given
        for name in names:
            if name in lower and lower[name] != avoid:
                return lower[name]
        raise DataError(f"{source}: no {role} column found among {list(map(str, frame.columns))}",
                        f"name one of {', '.join(names)}, or pass --{'text' if role == 'prompt' else 'label'}-column")

    prompt_col = pick(prompt, PROMPT_NAMES, "prompt", None)
    return prompt_col, pick(response, RESPONSE_NAMES, "response", prompt_col)


def perplexity(loaded: Any, prompts: list[str], responses: list[str]) -> float:
    """exp(mean token loss) of each reference response given its prompt (the chat template when there is one)."""
    import torch

    model, tokenizer = loaded.model, loaded.tokenizer
    total, count = 0.0, 0
    with torch.inference_mode():
        for prompt, response in zip(prompts, responses, strict=True):
            prefix = loaded._prompt_ids([{"role": "user", "content": prompt}])["input_ids"][0].tolist()
            answer = tokenizer(response, add_special_tokens=False)["input_ids"]
            if tokenizer.eos_token_id is not None:
                answer = answer + [tokenizer.eos_token_id]
            context = loaded._context_size() or len(prefix) + len(answer)
            ids = (prefix + answer)[:context]
            if len(ids) <= len(prefix):
                continue
            labels = [-100] * len(prefix) + ids[len(prefix):]
            out = model(input_ids=torch.tensor([ids]), labels=torch.tensor([labels]))
            n = len(ids) - len(prefix)
            total += float(out.loss) * n
            count += n
    return math.exp(total / count) if count else float("nan")


@evaluator("generate")
def _evaluate_generation(loaded: Any, data: Any, text_column: str | None, label_column: str | None,
                         limit: int | None, max_new_tokens: int = 64) -> dict:
    frame, source = _table(data)
    prompt_col, response_col = _generation_columns(frame, text_column, label_column, source)
    frame = _limit(frame, limit)
    prompts, references = _texts(frame, prompt_col, source), _texts(frame, response_col, source)
    outputs = loaded.predict(prompts, max_new_tokens=max_new_tokens)
    outputs = outputs if isinstance(outputs, list) else [outputs]
    metrics = generation_metrics(references, [g.text for g in outputs])
    metrics.update(perplexity=perplexity(loaded, prompts, references), multi_label=False,
                   columns={"prompt": prompt_col, "response": response_col})
    return metrics


def predict_file(
    model: Any,
    data: str | os.PathLike | pd.DataFrame,
    output: str | os.PathLike,
    text_column: str | None = None,
    batch_size: int = 64,
) -> dict:
    """Classify every text of ``data`` and write ``output`` (CSV): text, label, score, one column per class.

    NER models write the entities as JSON in an ``entities`` column; generation models a
    ``generated`` column. The file is written to a temporary name, then renamed.
    Returns {"output", "rows", "task", "labels"}.
    """
    import json

    from tamellm.data import infer_columns

    loaded = _model(model)
    frame, source = _table(data)
    column = infer_columns(frame, text_column=text_column).text
    texts = _texts(frame, column, source)
    if loaded.task == "classify":
        rows = [{"text": p.text, "label": p.label, "score": p.score,
                 **{f"score_{k}": p.scores[k] for k in loaded.labels}}
                for p in loaded.predict(texts, batch_size=batch_size)]
    elif loaded.task == "ner":
        rows = [{"text": r.text, "entities": json.dumps([e.to_dict() for e in r.entities], ensure_ascii=False)}
                for r in loaded.predict(texts, batch_size=batch_size)]
    elif loaded.task == "generate":
        outs = loaded.predict(texts)
        rows = [{"text": t, "generated": g.text} for t, g in zip(texts, outs if isinstance(outs, list) else [outs],
                                                                 strict=True)]
    else:
        raise InputError(f"cannot write predictions of a '{loaded.task}' model",
                         "use a classify, ner or generate model")
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=output.parent, suffix=".part", delete=False, newline="",
                                     encoding="utf-8") as handle:
        pd.DataFrame(rows).to_csv(handle, index=False)
    os.replace(handle.name, output)
    logger.info("wrote %d predictions to %s", len(rows), output)
    return {"output": str(output), "rows": len(rows), "task": loaded.task, "column": column,
            "labels": list(getattr(loaded, "labels", []) or [])}


def describe_data(data: str | os.PathLike, task: str = "classify", text_column: str | None = None,
                  label_column: str | None = None) -> dict:
    """The columns a job on ``data`` uses and why: {text, label, reason_text, reason_label, notes}."""
    if task == "ner":
        from tamellm.data import read_ner

        sentences = read_ner(data)
        return {"notes": [f"{data}: {len(sentences)} sentences, {sum(len(s['tokens']) for s in sentences)} tokens"]}
    frame, source = _table(data)
    if task == "generate":
        prompt, response = _generation_columns(frame, text_column, label_column, source)
        return {"text": prompt, "label": response, "reason_text": "prompt column", "reason_label": "response column",
                "notes": [f"{source}: {len(frame)} rows"]}
    from tamellm.data import infer_columns

    choice = infer_columns(frame, text_column, label_column)
    return {**choice.to_dict(), "notes": [f"{source}: {len(frame)} rows"]}
