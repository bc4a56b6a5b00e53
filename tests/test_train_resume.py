"""Resume after SIGKILL reaches the same metrics as an uninterrupted run; torchrun with 2 gloo processes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from test_train_core import write_sentiment


def write_config(tmp_path: Path, model_dir: Path, **train) -> Path:
    data = write_sentiment(tmp_path / "reviews.csv", n=160)
    config = {"task": "classify", "model": str(model_dir), "seed": 5, "output": str(tmp_path / "runs"),
              "data": {"train": str(data)},
              "train": {"strategy": "full", "epochs": 8, "batch_size": 8, "learning_rate": 3e-3,
                        "early_stopping_patience": 0, "gradient_accumulation": 2, **train}}
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


def _env() -> dict:
    src = str(Path(__file__).resolve().parents[1] / "src")
    return {**os.environ, "TAMELLM_TRACKING": "0", "OMP_NUM_THREADS": "1", "TAMELLM_PROGRESS": "0",
            "PYTHONPATH": src + os.pathsep + os.environ.get("PYTHONPATH", "")}


def _train(config: Path, run_dir: Path, *extra: str, timeout: float = 240) -> None:
    cmd = [sys.executable, "-m", "tamellm.training", "--config", str(config), "--run-dir", str(run_dir), *extra]
    done = subprocess.run(cmd, env=_env(), capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, done.stderr[-3000:]


def _final(run_dir: Path) -> dict:
    result = json.loads((run_dir / "result.json").read_text())
    return {split: {k: v for k, v in m.items() if isinstance(v, int | float)} for split, m in result["metrics"].items()}


def _step(run_dir: Path) -> int:
    state = run_dir / "checkpoints" / "last" / "state.json"
    try:
        return json.loads(state.read_text())["step"]
    except (OSError, ValueError, KeyError):
        return 0


def test_sigkill_then_resume_matches_an_uninterrupted_run(tmp_path, tiny_bert_dir):
    config = write_config(tmp_path, tiny_bert_dir)
    _train(config, tmp_path / "straight")
    expected = _final(tmp_path / "straight")
    total = json.loads((tmp_path / "straight" / "result.json").read_text())["steps"]

    killed = tmp_path / "killed"
    cmd = [sys.executable, "-m", "tamellm.training", "--config", str(config), "--run-dir", str(killed)]
    process = subprocess.Popen(cmd, env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 180
    while _step(killed) < total // 3 and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert process.poll() is None, "training finished before it could be killed"
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    stopped_at = _step(killed)
    assert 0 < stopped_at < total
    assert not (killed / "model").exists() and not (killed / "result.json").exists()

    _train(config, killed, "--resume")
    resumed = _final(killed)
    assert resumed.keys() == expected.keys()
    for split, values in expected.items():
        for key, value in values.items():
            assert resumed[split][key] == pytest.approx(value, abs=1e-6), (split, key)
    history = [json.loads(line) for line in (killed / "metrics.jsonl").read_text().splitlines()]
    straight = [json.loads(line) for line in (tmp_path / "straight" / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in history] == [r["step"] for r in straight]
    assert [r["loss"] for r in history] == pytest.approx([r["loss"] for r in straight], abs=1e-6)


def test_torchrun_two_gloo_processes_write_one_model(tmp_path, tiny_bert_dir):
    config = write_config(tmp_path, tiny_bert_dir, epochs=2, gradient_accumulation=1)
    run_dir = tmp_path / "ddp"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port", "29561",
           "-m", "tamellm.training", "--config", str(config), "--run-dir", str(run_dir)]
    done = subprocess.run(cmd, env=_env(), capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]
    environment = json.loads((run_dir / "environment.json").read_text())
    assert environment["world_size"] == 2
    assert (run_dir / "model" / "model.safetensors").is_file()
    assert len([p for p in run_dir.iterdir() if p.name.startswith("model")]) == 1
    lines = [x for x in done.stdout.splitlines() if x.startswith("{")]
    assert len(lines) == 1 and json.loads(lines[0])["run_dir"] == str(run_dir)
    import tamellm

    assert tamellm.load(run_dir / "model").predict("the film was good").label in ("positive", "negative")
