"""Evaluate a model on a labelled file, and write its predictions to a CSV.

Evaluators live in ``EVALUATORS`` (a registry); a task's ``TaskSpec.evaluator`` names
the one it uses, so adding a task's evaluation is adding a function: classification
(accuracy, macro-F1, per-class report, confusion matrix), NER (seqeval entity F1 on
CoNLL / JSONL files), generation (ROUGE-L against reference answers, and perplexity of
the references).
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

from tamellm.data.schemas import DATA_SCHEMAS, prompt_response_columns
from tamellm.errors import DataError, InputError
from tamellm.metrics import classification_metrics, generation_metrics, ner_metrics
from tamellm.registry import Registry
from tamellm.tasks import TASKS, TaskModel, load, task_spec

logger = logging.getLogger(__name__)

Evaluator = Callable[..., dict]
EVALUATORS: Registry[Evaluator] = Registry("evaluators", "evaluator")
evaluator = EVALUATORS.register


def _model(model: Any) -> TaskModel:
    return model if isinstance(model, TaskModel) else load(model)


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
    spec = task_spec(task)
    if spec.evaluator is None:
        evaluable = [name for name, other in TASKS.items() if other.evaluator]
        raise InputError(f"cannot evaluate a '{task}' model", f"evaluation exists for: {', '.join(evaluable)}")
    if limit is not None and limit < 1:
        raise InputError(f"limit must be at least 1, got {limit}")
    result = EVALUATORS[spec.evaluator](loaded, data, text_column=text_column, label_column=label_column,
                                        limit=limit, **options)
    metric = spec.metric(bool(result.get("multi_label"))) if spec.primary_metric else None
    result.update(task=task, model=loaded.name, data=str(data) if not isinstance(data, pd.DataFrame) else None,
                  primary_metric=metric[0] if metric else None)
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
    prompt_col, response_col = prompt_response_columns(frame, text_column, label_column, source)
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
    batch_size: int | None = None,
) -> dict:
    """Predict every text of ``data`` and write ``output`` (CSV): the text, then the result's columns.

    A classifier writes label, score and one ``score_<label>`` column per class; NER the
    entities as JSON in an ``entities`` column; generation a ``generated`` column (each
    result's ``to_row()``). The file is written to a temporary name, then renamed.
    Returns {"output", "rows", "task", "labels"}.
    """
    from tamellm.data import infer_columns

    loaded = _model(model)
    frame, source = _table(data)
    column = infer_columns(frame, text_column=text_column).text
    texts = _texts(frame, column, source)
    results = loaded.predict(texts, **({"batch_size": batch_size} if batch_size else {}))
    results = results if isinstance(results, list) else [results]
    table = pd.DataFrame([{"text": t, **r.to_row()} for t, r in zip(texts, results, strict=True)])
    labels = list(getattr(loaded, "labels", []) or [])
    if labels:  # score columns in the model's label order, whatever each row's ranking
        scores = [f"score_{k}" for k in labels if f"score_{k}" in table.columns]
        table = table[[c for c in table.columns if c not in scores] + scores]
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=output.parent, suffix=".part", delete=False, newline="",
                                     encoding="utf-8") as handle:
        table.to_csv(handle, index=False)
    os.replace(handle.name, output)
    logger.info("wrote %d predictions to %s", len(table), output)
    return {"output": str(output), "rows": len(table), "task": loaded.task, "column": column, "labels": labels}


def describe_data(data: str | os.PathLike, task: str = "classify", text_column: str | None = None,
                  label_column: str | None = None) -> dict:
    """The columns a job on ``data`` uses and why: {text, label, reason_text, reason_label, notes}."""
    spec = task_spec(task)
    if spec.data_schema is None:
        readable = [name for name, other in TASKS.items() if other.data_schema]
        raise InputError(f"Task '{task}' reads no data file", f"tasks with data files: {', '.join(readable)}")
    return DATA_SCHEMAS[spec.data_schema].describe(data, text_column, label_column)
