"""Image + text fusion: a CSV of (image path, text, label) -> a fusion head over frozen encoders, by the one loop.

Like image classification, the run prepares its own inputs (each pair's [image; text]
features, computed once) and then runs the same ``train_loop``.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pandas as pd

from tamellm.errors import ConfigError, DataError
from tamellm.training.task_adapters.base import register
from tamellm.training.task_adapters.image_classification import (
    PATH_COLUMNS,
    ImageClassificationAdapter,
    ImageSplits,
)

TEXT_COLUMNS = ("text", "caption", "description", "title")


def read_pair_table(source: str | Path) -> pd.DataFrame:
    """(path, text, label) rows from a CSV/TSV with an image path column, a text column and 'label'."""
    source = Path(source)
    if not source.is_file():
        raise DataError(f"Pair data {source} not found", "pass a CSV with image path, text and label columns")
    frame = pd.read_csv(source, sep="\t" if source.suffix.lower() == ".tsv" else ",")
    lower = {str(c).lower(): c for c in frame.columns}
    path_column = next((lower[c] for c in PATH_COLUMNS if c in lower), None)
    text_column = next((lower[c] for c in TEXT_COLUMNS if c in lower), None)
    if path_column is None or text_column is None or "label" not in frame.columns:
        raise DataError(f"{source} needs an image path column ({', '.join(PATH_COLUMNS)}), a text column "
                        f"({', '.join(TEXT_COLUMNS)}) and a 'label' column",
                        f"its columns are: {', '.join(map(str, frame.columns))}")
    paths = [str(p if Path(p).is_absolute() else source.parent / p) for p in frame[path_column].astype(str)]
    missing = [p for p in paths if not Path(p).is_file()]
    if missing:
        raise DataError(f"{source}: {len(missing)} image file(s) not found, e.g. {missing[0]}",
                        "paths are read relative to the CSV's folder")
    return pd.DataFrame({"path": paths, "text": frame[text_column].fillna("").astype(str),
                         "label": frame["label"].astype(str)})


@register("image-text-classify")
class FusionAdapter(ImageClassificationAdapter):
    """Pairs -> indices into a tensor of [image; text] features from the frozen encoders."""

    @classmethod
    def load_splits(cls, config: Any) -> ImageSplits:
        return cls.split_tables(config, read_pair_table)

    def __init__(self, splits: Any, options: dict) -> None:
        super().__init__(splits, options)
        self.texts = {name: frame["text"].tolist() for name, frame in splits.items()}

    def prepare_features(self, text_model: str | None, resources: Any = None) -> None:
        """Every pair through both encoders once (once per ``resources``: runs that compare heads or
        modalities on the same data share them)."""
        import torch

        from tamellm.tasks.image_text import pair_features
        from tamellm.training.resources import fingerprint

        chunks, offset = [], 0
        for name in self.split_names():
            self.offsets[name] = offset
            paths, texts = self.paths[name], self.texts[name]
            key = ("fusion-features", fingerprint(paths, texts), text_model)
            make = lambda p=paths, t=texts: pair_features(p, t, text_model)  # noqa: E731
            chunks.append(resources.memo(key, make) if resources is not None else make())
            offset += len(paths)
        self.inputs = torch.cat(chunks)


def train_fusion(config: Any, splits: Any = None, run_dir: Path | None = None, params: dict | None = None,
                 report: Any = None, resume: bool = False, budget_s: float | None = None, resources: Any = None,
                 mode: str = "concat", modalities: str = "both", text_model: str | None = None) -> Any:
    """Train a fusion head on (image, text, label) pairs and write the run folder with a ``fusion`` model."""
    from datetime import UTC, datetime

    from tamellm.config import dump_config
    from tamellm.logs import run_log
    from tamellm.models.fusion_net import FusionHead, save_fusion_model
    from tamellm.models.image_net import ACTIVATION, FEATURE_DIM
    from tamellm.tasks.image_text import DEFAULT_TEXT_MODEL
    from tamellm.training import distributed
    from tamellm.training.callbacks import close_trackers, fan_out, open_trackers, tracking_enabled
    from tamellm.training.loop import evaluate, train_loop
    from tamellm.training.params import resolve_params
    from tamellm.training.records import environment_record, write_json
    from tamellm.training.resources import TrainResources
    from tamellm.training.run import TrainResult, new_run_dir, seed_everything

    started = time.monotonic()
    wanted = dict(params or {})
    if wanted.get("strategy", config.train.strategy) not in (None, "auto", "head-only"):
        raise ConfigError("a fusion model trains its head only (the encoders stay frozen)", "use strategy head-only")
    wanted["strategy"] = "head-only"
    if wanted.get("learning_rate") is None and config.train.learning_rate is None:
        wanted["learning_rate"] = 3e-3
    if wanted.get("epochs") is None and config.train.epochs is None:
        wanted["epochs"] = 60  # a small head on stored features: an epoch costs milliseconds
    train_params = resolve_params(config.model_copy(update={"task": "classify"}), wanted)
    run_dir = Path(run_dir) if run_dir is not None else new_run_dir(config, f"fusion-{mode}-{modalities}")
    resources = resources if resources is not None else TrainResources(shared=False)
    text_model = text_model or DEFAULT_TEXT_MODEL
    with run_log(run_dir):
        data = splits if splits is not None else FusionAdapter.load_splits(config)
        adapter = FusionAdapter(data, train_params.as_dict())
        adapter.prepare_features(text_model, resources)
        seed_everything(config.seed)
        head = FusionHead(FEATURE_DIM, adapter.inputs.shape[1] - FEATURE_DIM, len(adapter.label_names), mode,
                          modalities=modalities)
        features = adapter.features()
        run_dir.mkdir(parents=True, exist_ok=True)
        (run_dir / "config.yaml").write_text(dump_config(config), encoding="utf-8")
        write_json(run_dir / "params.json", {**train_params.as_dict(), "fusion_mode": mode, "modalities": modalities})
        write_json(run_dir / "environment.json", environment_record(config.seed))
        write_json(run_dir / "data.json", {"task": "image-text-classify", "rows": data.sizes(), "notes": data.notes})
        trackers = open_trackers(run_dir, [], enabled=tracking_enabled(), store=resources.mlflow)
        try:
            fan_out(trackers, "start", train_params.as_dict())
            outcome = train_loop(head, adapter, features, train_params, run_dir, 0, distributed.setup(), trackers,
                                 resume=resume, report=report, budget_s=budget_s)
        except BaseException:
            close_trackers(trackers, None)
            raise
        metrics = {split: evaluate(head, adapter, features[split], train_params.eval_batch_size, 0)
                   for split in ("validation", "test") if features.get(split)}
        encoders = {"image_model": "efficientnet-lite0 (ImageNet, frozen)", "text_model": text_model,
                    "image_activation": ACTIVATION}
        model_dir = save_fusion_model(head, run_dir / "model", adapter.label_names, encoders,
                                      {"strategy": "head-only", "fusion_mode": mode, "modalities": modalities})
        seconds = time.monotonic() - started
        write_json(run_dir / "result.json", {
            "metrics": metrics, "seconds": seconds, "best_step": outcome.best_step, "steps": outcome.steps,
            "primary_metric": "accuracy", "task": "image-text-classify", "fusion_mode": mode,
            "modalities": modalities, "finished": datetime.now(UTC).isoformat(timespec="seconds")})
        close_trackers(trackers, metrics)
    return TrainResult(run_dir, model_dir, metrics, outcome.history, train_params.as_dict(), seconds,
                       outcome.stopped_early, outcome.best_step)


FusionAdapter.train_run = staticmethod(train_fusion)
