"""Jobs started from the web page (training, auto-compress): one at a time, the others queued.

A job runs the ``tamellm`` command the page shows the user (``tamellm train``, ``tamellm
compress``) in a child process, so that a job behaves as it would on the command line
(report, AutoTune when no strategy is given) and a cancel is a clean process stop that
cannot leave the server's threads or memory in a half-trained state. Progress is read
from the run folder the child writes (metrics.jsonl per evaluation, trials/NNN per trial).

The jobs of a runs folder are written to ``<runs>/.tamellm-jobs.json`` (atomically, on
every change), so the page finds them again after a reload or a server restart. A job
that was queued or running when its server stopped is ``interrupted``; ``resume`` runs
its command again with ``--resume`` (training continues from the last checkpoint, a tune
from its Optuna study). One server process owns the queue: with ``--workers`` > 1 the
page's job endpoints refuse to start jobs (routes_ui), since each worker would run its own.
"""

from __future__ import annotations

import atexit
import ctypes
import itertools
import json
import logging
import os
import queue
import signal
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tamellm.ui.views import read_history, trial_rows

log = logging.getLogger("tamellm.serving")
QUEUED, RUNNING, DONE, FAILED, CANCELLED, INTERRUPTED = "queued", "running", "done", "failed", "cancelled", \
    "interrupted"
FINISHED = {DONE, FAILED, CANCELLED, INTERRUPTED}
RESUMABLE = {FAILED, CANCELLED, INTERRUPTED}
STOP_GRACE_S = 10.0
TAIL_CHARS = 4000  # of the child's stderr, kept to explain a failure
STATE_FILE = ".tamellm-jobs.json"
KEPT_JOBS = 200  # the state file keeps the newest jobs only
PERSISTED = ("id", "kind", "command", "run_dir", "options", "status", "created", "started", "finished", "result",
             "error", "resumes")


@dataclass
class Job:
    """One job: its command, the folder it writes, and where it stands."""

    id: str
    command: list[str]
    run_dir: Path
    options: dict[str, Any]
    kind: str = "train"
    status: str = QUEUED
    created: float = field(default_factory=time.time)
    started: float | None = None
    finished: float | None = None
    result: dict | None = None
    error: str | None = None
    resumes: int = 0
    process: subprocess.Popen | None = None

    def history(self) -> list[dict]:
        """Evaluation rows written so far: the run's own, or each trial's (tagged) in a tune folder."""
        if self.kind != "train":
            return []
        rows = read_history(self.run_dir / "metrics.jsonl")
        trials = self.run_dir / "trials"
        if trials.is_dir():
            for folder in sorted(p for p in trials.iterdir() if p.is_dir()):
                rows += [{**row, "trial": folder.name} for row in read_history(folder / "metrics.jsonl")]
        return rows

    def to_dict(self) -> dict[str, Any]:
        """The job as the page shows it (learning-curve rows and the trial table included)."""
        now = self.finished or time.time()
        return {
            "id": self.id,
            "kind": self.kind,
            "status": self.status,
            "options": self.options,
            "run_dir": str(self.run_dir),
            "run_name": self.run_dir.name,
            "created": self.created,
            "elapsed_s": round(now - self.started, 1) if self.started else 0.0,
            "result": self.result,
            "error": self.error,
            "resumable": self.kind == "train" and self.status in RESUMABLE,
            "history": self.history(),
            "trials": trial_rows(self.run_dir) if self.kind == "train" else [],
        }

    def record(self) -> dict[str, Any]:
        """What the state file keeps of the job."""
        data = {name: getattr(self, name) for name in PERSISTED}
        data["run_dir"] = str(self.run_dir)
        return data

    @classmethod
    def from_record(cls, data: dict[str, Any]) -> Job:
        """A job read back from the state file."""
        fields = {name: data[name] for name in PERSISTED if name in data}
        fields["run_dir"] = Path(fields["run_dir"])
        return cls(**fields)


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "tamellm.cli.main", *args]


def train_command(data: Path, run_dir: Path, options: dict[str, Any]) -> list[str]:
    """The ``tamellm train`` command line of a job (flags as the CLI names them)."""
    command = _cli("train", "--data", str(data), "--output", str(run_dir), "--json")
    for key, flag in (("task", "--task"), ("model", "--model"), ("budget", "--budget"), ("strategy", "--strategy"),
                      ("epochs", "--epochs"), ("trials", "--trials"), ("text_column", "--text-column"),
                      ("label_column", "--label-column"), ("max_length", "--max-length")):
        value = options.get(key)
        if value not in (None, ""):
            command += [flag, str(value)]
    return command


def compress_command(model: Path, data: Path, output: Path, options: dict[str, Any]) -> list[str]:
    """The ``tamellm compress`` command line of a compress job."""
    command = _cli("compress", str(model), "--data", str(data), "--output", str(output), "--json")
    for key, flag in (("max_drop", "--max-drop"), ("methods", "--methods")):
        value = options.get(key)
        if value not in (None, ""):
            command += [flag, str(value)]
    return command


try:  # resolved here, in the server, so that the child only makes the call between fork and exec
    _PRCTL = ctypes.CDLL(None, use_errno=True).prctl
except (OSError, AttributeError):  # not Linux: a child may outlive a killed server
    _PRCTL = None
PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """In the child, before exec: SIGTERM when the server dies, so no orphan keeps writing the run folder."""
    if _PRCTL is not None:
        _PRCTL(PR_SET_PDEATHSIG, signal.SIGTERM)


class JobQueue:
    """Runs jobs one after the other in a worker thread; keeps the jobs of a runs folder on disk."""

    def __init__(self, runs_root: Path) -> None:
        self.runs_root = runs_root
        self.state_file = runs_root / STATE_FILE
        self.jobs: dict[str, Job] = {}
        self._queue: queue.Queue[Job] = queue.Queue()
        self._lock = threading.RLock()
        self._worker: threading.Thread | None = None
        self._counter = itertools.count(1)
        self._load()
        atexit.register(self.stop_all)

    # --- the state file -------------------------------------------------------------------------
    def _load(self) -> None:
        try:
            data = json.loads(self.state_file.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return
        except (OSError, ValueError) as exc:
            log.warning("ignoring the unreadable jobs file %s: %s", self.state_file, exc)
            return
        for item in data.get("jobs", []) if isinstance(data, dict) else []:
            try:
                job = Job.from_record(item)
            except (KeyError, TypeError):
                continue
            if job.status in (QUEUED, RUNNING):  # its server stopped before it finished
                job.status, job.finished = INTERRUPTED, job.finished or time.time()
            self.jobs[job.id] = job
        if self.jobs:
            self._save()

    def _save(self) -> None:
        """Write every job to the state file: a temporary file renamed over it, never a torn file."""
        with self._lock:
            newest = sorted(self.jobs.values(), key=lambda j: j.created)[-KEPT_JOBS:]
            text = json.dumps({"jobs": [j.record() for j in newest]}, ensure_ascii=False, default=str)
            try:
                self.runs_root.mkdir(parents=True, exist_ok=True)
                tmp = self.state_file.with_name(f"{STATE_FILE}.{os.getpid()}.tmp")
                tmp.write_text(text, encoding="utf-8")
                os.replace(tmp, self.state_file)
            except OSError as exc:  # a read-only runs folder: jobs still run, they just do not survive a restart
                log.warning("could not write %s: %s", self.state_file, exc)

    # --- submitting, cancelling, resuming -------------------------------------------------------
    def _enqueue(self, job: Job) -> Job:
        with self._lock:
            self.jobs[job.id] = job
            self._save()
            if self._worker is None or not self._worker.is_alive():
                self._worker = threading.Thread(target=self._work, name="tamellm-jobs", daemon=True)
                self._worker.start()
        self._queue.put(job)
        log.info("job %s queued: %s", job.id, " ".join(job.command[2:]))
        return job

    def submit(self, data: Path, options: dict[str, Any]) -> Job:
        """Queue a training job on ``data``; it starts when the jobs before it have finished."""
        stamp = time.strftime("%Y%m%d-%H%M%S")
        run_dir = self.runs_root / f"ui-{stamp}-{next(self._counter)}"
        return self._enqueue(Job(uuid.uuid4().hex[:12], train_command(data, run_dir, options), run_dir, options))

    def submit_compress(self, run_dir: Path, model: Path, data: Path, options: dict[str, Any]) -> Job:
        """Queue an auto-compress job of the model in ``run_dir``; the result goes to ``run_dir/compressed``."""
        command = compress_command(model, data, run_dir / "compressed", options)
        return self._enqueue(Job(uuid.uuid4().hex[:12], command, run_dir, {**options, "data": str(data)},
                                 kind="compress"))

    def resume(self, job: Job) -> Job:
        """Queue a stopped training job again with ``--resume`` (same id, same run folder)."""
        with self._lock:
            if job.kind != "train" or job.status not in RESUMABLE:
                raise ValueError(f"job {job.id} is {job.status}; only a failed, cancelled or interrupted "
                                 "training job can be resumed")
            if "--resume" not in job.command:
                job.command = [*job.command, "--resume"]
            job.status, job.finished, job.error, job.result = QUEUED, None, None, None
            job.created, job.resumes = time.time(), job.resumes + 1
        return self._enqueue(job)

    def position(self, job: Job) -> int:
        """How many jobs run or wait before this one."""
        return sum(1 for j in self.jobs.values() if j.status in (QUEUED, RUNNING) and j.created < job.created)

    def cancel(self, job: Job, status: str = CANCELLED) -> None:
        """Cancel a queued job, or stop a running one (SIGTERM, then SIGKILL after a grace period)."""
        with self._lock:
            if job.status == QUEUED:
                job.status, job.finished = status, time.time()
                self._save()
                return
            if job.status != RUNNING or job.process is None:
                return
            job.status = status
            process = job.process
            self._save()
        process.terminate()
        try:
            process.wait(STOP_GRACE_S)
        except subprocess.TimeoutExpired:
            process.kill()

    def stop_all(self) -> None:
        """Stop every job because the server is stopping: they stay resumable (``interrupted``)."""
        for job in list(self.jobs.values()):
            if job.status in (QUEUED, RUNNING):
                self.cancel(job, INTERRUPTED)

    # --- the worker -----------------------------------------------------------------------------
    def _work(self) -> None:
        while True:
            job = self._queue.get()
            with self._lock:
                if job.status != QUEUED:
                    continue
                job.status, job.started = RUNNING, time.time()
                job.run_dir.parent.mkdir(parents=True, exist_ok=True)
                job.process = subprocess.Popen(
                    job.command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                    env={**os.environ, "TAMELLM_PROGRESS": "0"},
                    preexec_fn=_die_with_parent if _PRCTL is not None else None,  # noqa: PLW1509
                )
                self._save()
            out, err = job.process.communicate()
            self._finish(job, job.process.returncode, out, err)

    def _finish(self, job: Job, code: int, out: str, err: str) -> None:
        with self._lock:
            job.finished = time.time()
            if job.status in (CANCELLED, INTERRUPTED):
                log.info("job %s %s", job.id, job.status)
            elif code == 0:
                try:
                    job.result = json.loads(out) if out.strip() else {}
                except ValueError:
                    job.result = {"output": out[-TAIL_CHARS:]}
                job.status = DONE
            else:
                job.status = FAILED
                lines = [line for line in err.strip().splitlines() if line.startswith("error:")]
                job.error = "\n".join(lines) or err[-TAIL_CHARS:] or f"exit code {code}"
            log.info("job %s %s", job.id, job.status)
            self._save()
