"""Trackers fed by the loop: metrics.jsonl, TensorBoard, MLflow (local store in the run folder)."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)


class Tracker:
    """Receives the run's params, each evaluation row and the final result."""

    def start(self, params: dict) -> None:
        """The run begins (or resumes) with ``params``."""

    def log(self, row: dict) -> None:
        """One evaluation: step, epoch, split, loss, learning_rate and metrics."""

    def close(self, result: dict | None) -> None:
        """The run ended (``result`` is None when it was interrupted)."""


class MetricsFile(Tracker):
    """metrics.jsonl: one JSON object per evaluation, flushed at once (a kill loses at most a line)."""

    def __init__(self, path: Path, history: list[dict]) -> None:
        # On resume the file is rewritten from the checkpoint's history: rows logged after it are dropped.
        path.write_text("".join(json.dumps(r) + "\n" for r in history), encoding="utf-8")
        self.path = path

    def log(self, row: dict) -> None:
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(row) + "\n")


def _scalars(row: dict) -> dict[str, float]:
    return {k: float(v) for k, v in row.items() if isinstance(v, int | float) and not isinstance(v, bool)
            and k not in ("step", "epoch")}


class TensorBoard(Tracker):
    """TensorBoard event files under run_dir/tensorboard."""

    def __init__(self, folder: Path) -> None:
        from torch.utils.tensorboard import SummaryWriter

        self.writer = SummaryWriter(str(folder))

    def log(self, row: dict) -> None:
        for key, value in _scalars(row).items():
            self.writer.add_scalar(f"{row.get('split', 'validation')}/{key}", value, int(row["step"]))
        self.writer.flush()

    def close(self, result: dict | None) -> None:
        self.writer.close()


class MLflowStore:
    """One local MLflow store (a SQLite database and an experiment) that many runs log into.

    Opening a store creates its database tables, which takes seconds: a study opens one
    and its trials are runs in it. ``MLFLOW_TRACKING_URI`` overrides the location.
    """

    def __init__(self, folder: Path, experiment: str = "tamellm") -> None:
        import mlflow

        from tamellm.logs import adopt_library_loggers

        adopt_library_loggers()  # MLflow installs its own terminal handlers when imported

        folder = folder.resolve()  # a relative run folder (runs/...) has no file URI for the artifacts
        uri = os.environ.get("MLFLOW_TRACKING_URI") or f"sqlite:///{folder / 'mlflow.db'}"
        folder.mkdir(parents=True, exist_ok=True)
        self.client = mlflow.MlflowClient(tracking_uri=uri)
        found = self.client.get_experiment_by_name(experiment)
        self.experiment_id = found.experiment_id if found else self.client.create_experiment(
            experiment, artifact_location=(folder / "artifacts").as_uri())

    def tracker(self, name: str) -> MLflow:
        """A new run called ``name`` in this store."""
        return MLflow(self, name)


class MLflow(Tracker):
    """One MLflow run in a store (by default the run folder's own, run_dir/mlruns)."""

    def __init__(self, store: MLflowStore, name: str) -> None:
        self.client = store.client
        self.run_id = self.client.create_run(store.experiment_id, run_name=name).info.run_id

    def start(self, params: dict) -> None:
        for key, value in params.items():
            self.client.log_param(self.run_id, key, str(value)[:500])

    def log(self, row: dict) -> None:
        split = row.get("split", "validation")
        for key, value in _scalars(row).items():
            self.client.log_metric(self.run_id, f"{split}_{key}", value, step=int(row["step"]))

    def close(self, result: dict | None) -> None:
        if result:
            for split in ("validation", "test"):
                for key, value in _scalars(result.get(split) or {}).items():
                    self.client.log_metric(self.run_id, f"final_{split}_{key}", value)
        self.client.set_terminated(self.run_id, "FINISHED" if result else "KILLED")


def tracking_enabled() -> bool:
    """TensorBoard and MLflow run unless ``TAMELLM_TRACKING`` is 0 / false / no."""
    return os.environ.get("TAMELLM_TRACKING", "1").strip().lower() not in ("0", "false", "no")


def open_trackers(run_dir: Path, history: list[dict], enabled: bool, store: MLflowStore | None = None,
                  ) -> list[Tracker]:
    """metrics.jsonl always; TensorBoard and MLflow when ``enabled`` (a tracker that fails to start is logged).

    The MLflow run goes into ``store`` (a study's) when given, else into run_dir/mlruns.
    """
    trackers: list[Tracker] = [MetricsFile(run_dir / "metrics.jsonl", history)]
    if not enabled:
        return trackers
    def mlflow_run() -> Tracker:
        return (store or MLflowStore(run_dir / "mlruns")).tracker(run_dir.name)

    for make in (lambda: TensorBoard(run_dir / "tensorboard"), mlflow_run):
        try:
            trackers.append(make())
        except Exception as exc:  # a tracker is a convenience: training goes on without it
            logger.warning("tracker not started: %s", exc)
    return trackers


def close_trackers(trackers: list[Tracker], result: dict | None) -> None:
    """Close every tracker, logging (not raising) failures."""
    for tracker in trackers:
        try:
            tracker.close(result)
        except Exception as exc:  # closing must never hide the run's own outcome
            logger.warning("tracker %s did not close: %s", type(tracker).__name__, exc)


def fan_out(trackers: list[Tracker], method: str, *args: Any) -> None:
    """Call ``method`` on every tracker."""
    for tracker in trackers:
        getattr(tracker, method)(*args)
