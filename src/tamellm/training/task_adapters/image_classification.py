"""Image classification: a folder per class (or a CSV of path,label) -> EfficientNet-Lite0, through the one loop.

Images have no tokenizer, so ``train_images`` prepares what ``training/run.py`` prepares for
texts (data, base model, strategy, features) and then runs the same ``train_loop``:
AdamW, schedule, evaluation, early stopping, checkpoints and resume, budget, trackers.
Each example's features are its index (``input_ids=[i]``); the adapter maps an index to
the image's pixels (``full``) or to its frozen 1280-d feature (``head-only``: every image
goes through the frozen body once, then only the head trains).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from tamellm.errors import ConfigError, DataError
from tamellm.evaluation import evaluator
from tamellm.media import IMAGE_SUFFIXES
from tamellm.metrics import classification_metrics
from tamellm.threads import one_blas_thread
from tamellm.training.task_adapters.base import TaskAdapter, register

logger = logging.getLogger(__name__)
STRATEGIES = ("head-only", "full")
DEFAULT_LR = {"head-only": 3e-3, "full": 3e-4}  # a new 1280 -> n head learns fast; the body needs small steps
PATH_COLUMNS = ("path", "image", "file", "filename", "image_path")


def read_image_table(source: str | Path) -> pd.DataFrame:
    """(path, label) rows from a folder with a sub-folder per class, or a CSV/TSV with a path and a label column
    (relative paths are read from the CSV's folder)."""
    source = Path(source)
    if source.is_dir():
        rows = [(str(p), sub.name) for sub in sorted(source.iterdir()) if sub.is_dir()
                for p in sorted(sub.iterdir()) if p.suffix.lower() in IMAGE_SUFFIXES]
        if not rows:
            raise DataError(f"{source} has no class folders with images",
                            "put each class's images (png, jpg, webp) in a sub-folder named after the class")
        return pd.DataFrame(rows, columns=["path", "label"])
    if not source.is_file():
        raise DataError(f"Image data {source} not found",
                        "pass a folder (a sub-folder per class) or a CSV of path,label")
    frame = pd.read_csv(source, sep="\t" if source.suffix.lower() == ".tsv" else ",")
    path_column = next((c for c in frame.columns if str(c).lower() in PATH_COLUMNS), None)
    if path_column is None or "label" not in frame.columns:
        raise DataError(f"{source} needs a path column ({', '.join(PATH_COLUMNS)}) and a 'label' column",
                        f"its columns are: {', '.join(map(str, frame.columns))}")
    paths = [str(p if Path(p).is_absolute() else source.parent / p) for p in frame[path_column].astype(str)]
    missing = [p for p in paths if not Path(p).is_file()]
    if missing:
        raise DataError(f"{source}: {len(missing)} image file(s) not found, e.g. {missing[0]}",
                        "paths are read relative to the CSV's folder")
    return pd.DataFrame({"path": paths, "label": frame["label"].astype(str)})


@dataclass
class ImageSplits:
    """train / validation / test tables of (path, label)."""

    frames: dict[str, pd.DataFrame]
    notes: list[str] = field(default_factory=list)

    def items(self) -> list[tuple[str, pd.DataFrame]]:
        return list(self.frames.items())

    def sizes(self) -> dict[str, int]:
        return {k: len(v) for k, v in self.frames.items()}


@register("image-classify")
class ImageClassificationAdapter(TaskAdapter):
    """Images and labels -> indices into a tensor of pixels (full) or frozen features (head-only)."""

    @classmethod
    def load_splits(cls, config: Any) -> ImageSplits:
        """The config's image data, with validation / test cut from train (stratified) when not given."""
        return cls.split_tables(config, read_image_table)

    @staticmethod
    def split_tables(config: Any, reader: Any) -> ImageSplits:
        """Tables read by ``reader`` from the config's train / validation / test; missing parts cut from train."""
        from sklearn.model_selection import train_test_split

        data = config.data
        frames = {"train": reader(data.train)}
        for name, source in (("validation", data.validation), ("test", data.test)):
            if source is not None:
                frames[name] = reader(source)
        notes = []
        for name, size in (("test", data.test_size), ("validation", data.val_size)):
            if name in frames or not size:
                continue
            train = frames["train"]
            counts = train["label"].value_counts()
            stratify = train["label"] if counts.min() >= 2 and train["label"].nunique() > 1 else None
            rows = max(round(size * len(train)), train["label"].nunique() if stratify is not None else 1)
            keep, cut = train_test_split(train, test_size=rows, random_state=config.seed, stratify=stratify)
            frames["train"], frames[name] = keep.reset_index(drop=True), cut.reset_index(drop=True)
            notes.append(f"{name}: {len(cut)} rows cut from train ({size:.0%}, stratified)")
        if frames["train"]["label"].nunique() < 2:
            raise DataError("classification needs at least two classes", "add examples of a second class")
        return ImageSplits(frames, notes)

    def __init__(self, splits: Any, options: dict) -> None:
        super().__init__(splits, options)
        self.labels_of = {name: frame["label"].astype(str).tolist() for name, frame in splits.items()}
        self.paths = {name: frame["path"].tolist() for name, frame in splits.items()}
        self.label_names = sorted(set(self.labels_of["train"]))
        unknown = {x for name, labels in self.labels_of.items() for x in labels} - set(self.label_names)
        if unknown:
            raise DataError(f"labels outside the training data: {sorted(unknown)[:5]}",
                            "every class of validation/test must also be in train")
        self.inputs: torch.Tensor | None = None  # per example (all splits): uint8 pixels or float features
        self.offsets: dict[str, int] = {}

    def split_names(self) -> list[str]:
        return list(self.paths)

    def prepare_inputs(self, net: Any, frozen: bool, batch_size: int = 32) -> None:
        """Read every image once: pixels for full training, the frozen body's features for head-only."""
        from tamellm.models.image_net import pixels_of
        from tamellm.tasks.image_classification import open_images

        chunks, offset = [], 0
        net.eval()
        for name in self.split_names():
            self.offsets[name] = offset
            paths = self.paths[name]
            for i in range(0, len(paths), batch_size):
                images, _, _ = open_images(paths[i:i + batch_size])
                pixels = pixels_of(images, net.image_size)
                if frozen:
                    with torch.inference_mode():
                        chunks.append(net.features(pixels).clone())
                else:
                    chunks.append(((pixels * 127.5) + 127.5).round().to(torch.uint8))  # a quarter of float32
            offset += len(paths)
        self.inputs = torch.cat(chunks)

    def split_features(self, tokenizer: Any, split: str, max_length: int) -> list[dict]:
        start = self.offsets[split]
        return [{"input_ids": [start + i], "labels": self.label_names.index(label)}
                for i, label in enumerate(self.labels_of[split])]

    def features(self, tokenizer: Any = None, max_length: int = 1, eval_max_length: int | None = None) -> dict:
        return {name: self.split_features(None, name, 1) for name in self.split_names()}

    def batch_inputs(self, batch: dict) -> torch.Tensor:
        """The network input of a batch: its rows of ``inputs`` (uint8 pixels back to [-1, 1])."""
        rows = self.inputs[batch["input_ids"][:, 0]]
        return rows if rows.dtype != torch.uint8 else (rows.float() - 127.5) / 127.5

    def loss(self, model: torch.nn.Module, batch: dict) -> torch.Tensor:
        return torch.nn.functional.cross_entropy(model(self.batch_inputs(batch)), batch["labels"])

    @torch.no_grad()
    def evaluate(self, model: torch.nn.Module, batches: Iterable[dict]) -> dict:
        true, pred, losses = [], [], []
        for batch in batches:
            logits = model(self.batch_inputs(batch)).float()
            losses.append((float(torch.nn.functional.cross_entropy(logits, batch["labels"])), len(logits)))
            pred += [self.label_names[i] for i in logits.argmax(-1).tolist()]
            true += [self.label_names[i] for i in batch["labels"].tolist()]
        metrics = classification_metrics(true, pred, self.label_names)
        metrics["loss"] = sum(v * n for v, n in losses) / max(1, sum(n for _, n in losses))
        return metrics

    def manifest(self) -> dict:
        return {**super().manifest(), "labels": self.label_names}


class FeatureHead(torch.nn.Module):
    """The head alone, reading stored features (head-only: the body is frozen and ran once per image)."""

    def __init__(self, net: Any) -> None:
        super().__init__()
        self.head = net.head

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.head(features)


def fit_head(net: Any, adapter: ImageClassificationAdapter, seed: int) -> None:
    """Start the head at logistic regression on the frozen training features (its convex optimum, in
    seconds), so that head-only ends near the best head even after a few steps of the loop."""
    from sklearn.linear_model import LogisticRegression

    start, size = adapter.offsets["train"], len(adapter.paths["train"])
    x = adapter.inputs[start:start + size].numpy()
    y = [adapter.label_names.index(label) for label in adapter.labels_of["train"]]
    with one_blas_thread():
        fitted = LogisticRegression(C=1.0, max_iter=1000, random_state=seed).fit(x, y)
    coef, bias = fitted.coef_, fitted.intercept_
    if len(adapter.label_names) == 2:  # sklearn keeps one row for two classes: logits (-z/2, z/2)
        coef, bias = np.vstack([-coef / 2, coef / 2]), np.concatenate([-bias / 2, bias / 2])
    with torch.no_grad():
        net.head.weight.copy_(torch.as_tensor(coef, dtype=torch.float))
        net.head.bias.copy_(torch.as_tensor(bias, dtype=torch.float))


def _params(config: Any, params: dict | None) -> Any:
    """TrainParams for an image run: head-only / full, with learning rates fit for a new head or the body."""
    from tamellm.training.params import resolve_params

    wanted = dict(params or {})
    strategy = wanted.get("strategy") or config.train.strategy
    strategy = "head-only" if strategy in (None, "auto") else strategy
    if strategy not in STRATEGIES:
        raise ConfigError(f"strategy '{strategy}' cannot train task 'image-classify'", "it trains: head-only, full")
    wanted["strategy"] = strategy
    if wanted.get("learning_rate") is None and config.train.learning_rate is None:
        wanted["learning_rate"] = DEFAULT_LR[strategy]
    # The text classifier's checks and defaults apply (the strategies it accepts include both of ours).
    return resolve_params(config.model_copy(update={"task": "classify"}), wanted)


def train_images(config: Any, splits: Any = None, run_dir: Path | None = None, params: dict | None = None,
                 report: Any = None, resume: bool = False, budget_s: float | None = None,
                 resources: Any = None) -> Any:
    """Fine-tune EfficientNet-Lite0 on labelled images and write the run folder (see ``training.run``)."""
    from datetime import UTC, datetime

    from tamellm.config import dump_config
    from tamellm.logs import run_log
    from tamellm.models.image_net import pretrained_net, save_image_model
    from tamellm.training import distributed
    from tamellm.training.callbacks import close_trackers, fan_out, open_trackers, tracking_enabled
    from tamellm.training.loop import evaluate, train_loop
    from tamellm.training.records import environment_record, write_json
    from tamellm.training.resources import TrainResources
    from tamellm.training.run import TrainResult, new_run_dir, seed_everything

    started = time.monotonic()
    train_params = _params(config, params)
    run_dir = Path(run_dir) if run_dir is not None else new_run_dir(config, train_params.strategy)
    resources = resources if resources is not None else TrainResources(shared=False)
    dist = distributed.setup()
    with run_log(run_dir):
        data = splits if splits is not None else ImageClassificationAdapter.load_splits(config)
        adapter = ImageClassificationAdapter(data, train_params.as_dict())
        seed_everything(config.seed)
        frozen = train_params.strategy == "head-only"
        net = pretrained_net(len(adapter.label_names))
        adapter.prepare_inputs(net, frozen=frozen, batch_size=train_params.eval_batch_size)
        if frozen:
            fit_head(net, adapter, config.seed)
        model = FeatureHead(net) if frozen else net
        features = adapter.features()
        run_dir.mkdir(parents=True, exist_ok=True)
        (run_dir / "config.yaml").write_text(dump_config(config), encoding="utf-8")
        write_json(run_dir / "params.json", train_params.as_dict())
        write_json(run_dir / "environment.json", environment_record(config.seed))
        write_json(run_dir / "data.json", {"task": "image-classify", "rows": data.sizes(), "notes": data.notes,
                                           "labels": adapter.label_names})
        trackers = open_trackers(run_dir, [], enabled=tracking_enabled(), store=resources.mlflow)
        try:
            fan_out(trackers, "start", train_params.as_dict())
            outcome = train_loop(model, adapter, features, train_params, run_dir, 0, dist, trackers, resume=resume,
                                 report=report, budget_s=budget_s)
        except BaseException:
            close_trackers(trackers, None)
            raise
        metrics = {split: evaluate(model, adapter, features[split], train_params.eval_batch_size, 0)
                   for split in ("validation", "test") if features.get(split)}
        manifest = {**adapter.manifest(), "base_model": "efficientnet-lite0", "strategy": train_params.strategy,
                    "metrics": {k: {m: v for m, v in d.items() if isinstance(v, int | float)}
                                for k, d in metrics.items()}}
        model_dir = save_image_model(net, run_dir / "model", adapter.label_names, manifest)
        seconds = time.monotonic() - started
        write_json(run_dir / "result.json", {
            "metrics": metrics, "seconds": seconds, "stopped_early": outcome.stopped_early,
            "out_of_time": outcome.out_of_time, "best_step": outcome.best_step, "steps": outcome.steps,
            "primary_metric": "accuracy", "task": "image-classify",
            "finished": datetime.now(UTC).isoformat(timespec="seconds")})
        close_trackers(trackers, metrics)
    return TrainResult(run_dir, model_dir, metrics, outcome.history, train_params.as_dict(), seconds,
                       outcome.stopped_early, outcome.best_step)


ImageClassificationAdapter.train_run = staticmethod(train_images)  # training.run.train_model hands the run over


@evaluator("image-classify")
def evaluate_images(loaded: Any, data: Any, text_column: str | None = None, label_column: str | None = None,
                    limit: int | None = None, batch_size: int = 32) -> dict:
    """Accuracy, macro-F1, per class and confusion matrix of an image classifier on a folder or CSV of images."""
    frame = read_image_table(data)
    if limit is not None:
        frame = frame.iloc[:limit]
    unknown = sorted(set(frame["label"]) - set(loaded.labels))
    if unknown:
        raise DataError(f"{data}: labels the model does not know: {unknown[:10]}",
                        f"the model's labels are: {', '.join(loaded.labels)}")
    guessed = [r.label for r in loaded.predict(frame["path"].tolist(), batch_size=batch_size)]
    metrics = classification_metrics(frame["label"].tolist(), guessed, loaded.labels)
    metrics.update(multi_label=False, images=len(frame))
    return metrics

