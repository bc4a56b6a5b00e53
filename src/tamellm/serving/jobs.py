"""Training jobs started from the web page: one at a time, the others queued, each cancellable.

A job runs ``tamellm train`` in a child process, exactly the command the page shows the
user, so that a job behaves as it would on the command line (report, AutoTune when no
strategy is given) and a cancel is a clean process stop that cannot leave the server's
threads or memory in a half-trained state. Progress is read from the run folder the
child writes (metrics.jsonl, one line per evaluation).
"""

from __future__ import annotations

import atexit
import itertools
import json
import logging
import os
import queue
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tamellm.ui.views import read_history

log = logging.getLogger("tamellm.serving")
QUEUED, RUNNING, DONE, FAILED, CANCELLED = "queued", "running", "done", "failed", "cancelled"
FINISHED = {DONE, FAILED, CANCELLED}
STOP_GRACE_S = 10.0
TAIL_CHARS = 4000  # of the child's stderr, kept to explain a failure


@dataclass
class Job:
    """One training job: its command, its run folder and where it stands."""

    id: str
    command: list[str]
    run_dir: Path
    options: dict[str, Any]
    status: str = QUEUED
    created: float = field(default_factory=time.time)
    started: float | None = None
    finished: float | None = None
    result: dict | None = None
    error: str | None = None
    process: subprocess.Popen | None = None

    def history(self) -> list[dict]:
        """Evaluation rows written so far: the run's own, or each trial's (tagged) in a tune folder."""
        rows = read_history(self.run_dir / "metrics.jsonl")
        trials = self.run_dir / "trials"
        if trials.is_dir():
            for folder in sorted(p for p in trials.iterdir() if p.is_dir()):
                rows += [{**row, "trial": folder.name} for row in read_history(folder / "metrics.jsonl")]
        return rows

    def to_dict(self) -> dict[str, Any]:
        """The job as the page shows it (history included)."""
        now = self.finished or time.time()
        return {
            "id": self.id,
            "status": self.status,
            "options": self.options,
            "run_dir": str(self.run_dir),
            "run_name": self.run_dir.name,
            "created": self.created,
            "elapsed_s": round(now - self.started, 1) if self.started else 0.0,
            "result": self.result,
            "error": self.error,
            "history": self.history(),
        }


def train_command(data: Path, run_dir: Path, options: dict[str, Any]) -> list[str]:
    """The ``tamellm train`` command line of a job (flags as the CLI names them)."""
    command = [sys.executable, "-m", "tamellm.cli.main", "train", "--data", str(data), "--output", str(run_dir),
               "--json"]
    for key, flag in (("task", "--task"), ("model", "--model"), ("budget", "--budget"), ("strategy", "--strategy"),
                      ("epochs", "--epochs"), ("trials", "--trials"), ("text_column", "--text-column"),
                      ("label_column", "--label-column"), ("max_length", "--max-length")):
        value = options.get(key)
        if value not in (None, ""):
            command += [flag, str(value)]
    return command


class JobQueue:
    """Runs jobs one after the other in a worker thread; keeps every job of this server process."""

    def __init__(self, runs_root: Path) -> None:
        self.runs_root = runs_root
        self.jobs: dict[str, Job] = {}
        self._queue: queue.Queue[Job] = queue.Queue()
        self._lock = threading.Lock()
        self._worker: threading.Thread | None = None
        self._counter = itertools.count(1)
        atexit.register(self.stop_all)

    def submit(self, data: Path, options: dict[str, Any]) -> Job:
        """Queue a job training on ``data``; it starts when the jobs before it have finished."""
        stamp = time.strftime("%Y%m%d-%H%M%S")
        run_dir = self.runs_root / f"ui-{stamp}-{next(self._counter)}"
        job = Job(uuid.uuid4().hex[:12], train_command(data, run_dir, options), run_dir, options)
        with self._lock:
            self.jobs[job.id] = job
            if self._worker is None or not self._worker.is_alive():
                self._worker = threading.Thread(target=self._work, name="tamellm-jobs", daemon=True)
                self._worker.start()
        self._queue.put(job)
        log.info("job %s queued: %s", job.id, " ".join(job.command[2:]))
        return job

    def position(self, job: Job) -> int:
        """How many jobs run or wait before this one."""
        return sum(1 for j in self.jobs.values() if j.status in (QUEUED, RUNNING) and j.created < job.created)

    def cancel(self, job: Job) -> None:
        """Cancel a queued job, or stop a running one (SIGTERM, then SIGKILL after a grace period)."""
        with self._lock:
            if job.status == QUEUED:
                job.status, job.finished = CANCELLED, time.time()
                return
            if job.status != RUNNING or job.process is None:
                return
            job.status = CANCELLED
            process = job.process
        process.terminate()
        try:
            process.wait(STOP_GRACE_S)
        except subprocess.TimeoutExpired:
            process.kill()

    def stop_all(self) -> None:
        """Cancel every job (the server is stopping)."""
        for job in list(self.jobs.values()):
            if job.status in (QUEUED, RUNNING):
                self.cancel(job)

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
                )
            out, err = job.process.communicate()
            self._finish(job, job.process.returncode, out, err)

    def _finish(self, job: Job, code: int, out: str, err: str) -> None:
        with self._lock:
            job.finished = time.time()
            if job.status == CANCELLED:
                log.info("job %s cancelled", job.id)
                return
            if code == 0:
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
