"""What a person sees while ``tamellm train`` tunes, in a new process: trial lines, not library logs."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

TAMELLM = Path(sys.executable).parent / "tamellm"
GOOD = ["great phone", "I love this restaurant", "the food is wonderful", "a wonderful film"]
BAD = ["awful soup", "the service was terrible", "boring and far too long", "a terrible phone"]
LIBRARY_LINES = ("Creating initial MLflow database tables", "A new study created", "Trial 0 finished")


@pytest.fixture
def reviews(tmp_path):
    rows = [{"review": t, "stars": "good"} for t in GOOD * 4] + [{"review": t, "stars": "bad"} for t in BAD * 4]
    path = tmp_path / "reviews.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def _tune(tmp_path, reviews, model, *extra: str) -> tuple[subprocess.CompletedProcess, Path]:
    out_dir = tmp_path / ("tune" + "".join(extra).replace("-", ""))
    env = {**os.environ, "TAMELLM_TRACKING": "1", "PYTHONUNBUFFERED": "1"}
    env.pop("TAMELLM_PROGRESS", None)
    args = [str(TAMELLM), *extra, "train", "--data", str(reviews), "--model", str(model), "--trials", "2",
            "--strategy", "head-only", "--epochs", "1", "--max-length", "16", "--output", str(out_dir)]
    proc = subprocess.run(args, capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr
    return proc, out_dir


def test_library_logs_go_to_the_log_file_and_trials_to_one_line_each(tmp_path, reviews, tiny_bert_dir):
    pytest.importorskip("mlflow")
    proc, out_dir = _tune(tmp_path, reviews, tiny_bert_dir)
    terminal = proc.stdout + proc.stderr
    log = (out_dir / "log.txt").read_text(encoding="utf-8")
    for line in LIBRARY_LINES:
        assert line not in terminal and line in log, line
    # Not a terminal: plain text, one line per finished trial, no live-display escape codes.
    trial_lines = [line for line in proc.stderr.splitlines() if re.match(r"trial \d+ (complete|pruned|fail)", line)]
    assert len(trial_lines) == 2 and all("head-only" in line and "accuracy" in line for line in trial_lines)
    assert "\x1b[" not in proc.stderr
    assert "AutoTune" in proc.stdout and str(out_dir / "model") in proc.stdout.replace("\n", "")
    assert (out_dir / "trials" / "000" / "log.txt").is_file()


def test_verbose_brings_the_library_logs_back(tmp_path, reviews, tiny_bert_dir):
    proc, out_dir = _tune(tmp_path, reviews, tiny_bert_dir, "--verbose")
    assert "A new study created" in proc.stderr and "Trial 0 finished" in proc.stderr
    assert "Trial 0 finished" in (out_dir / "log.txt").read_text(encoding="utf-8")
