"""advise: measured profiles (cached), past runs' accuracy, the choice under constraints, the CLI's JSON."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

import tamellm
from tamellm.advice import advise, measured_profiles, parse_quantity, past_accuracy, profiles_path
from tamellm.errors import InputError

pytestmark = pytest.mark.usefixtures("quiet_one_thread")
MINILM = ("minilm-l6",)


def test_quantities_are_read_with_units_and_bad_ones_named():
    assert parse_quantity("20ms", "latency") == 20 and parse_quantity("0.5s", "latency") == 500
    assert parse_quantity("300MB", "memory") == 300 and parse_quantity("1gb", "memory") == 1024
    assert parse_quantity("10m", "budget") == 600 and parse_quantity(15, "latency") == 15
    with pytest.raises(InputError, match="cannot read latency '20 parsecs'"):
        parse_quantity("20 parsecs", "latency")


@pytest.fixture(scope="module")
def profiles():
    """MiniLM measured on this machine, once (fp32 and dynamic int8)."""
    return measured_profiles(labels=2, models=MINILM)


def test_profiles_are_measured_once_and_cached(profiles):
    assert [p["compression"] for p in profiles] == ["none", "dynamic-int8"]
    fp32, int8 = profiles
    assert fp32["latency_ms"] > 0 and fp32["throughput_per_s"] > 0 and 60 < fp32["memory_mb"] < 120
    assert int8["memory_mb"] < 0.6 * fp32["memory_mb"]  # int8 linear layers (the embedding table stays fp32)
    cached = json.loads(profiles_path().read_text())
    assert len([k for k in cached if k.startswith("minilm-l6|")]) >= 2
    assert measured_profiles(labels=2, models=MINILM) == profiles  # read back, not measured again


def test_advice_follows_the_constraints(profiles, tmp_path):
    loose = advise(data=None, rows=5000, labels=2, max_latency="10s", models=MINILM, runs=tmp_path)
    assert loose["fits"] and loose["model"] == "minilm-l6" and loose["compression"] == "none"
    assert loose["strategy"] == "full" and loose["expected"]["latency_ms"] == profiles[0]["latency_ms"]
    assert loose["commands"][0].startswith("tamellm train --data YOUR_DATA.csv --model minilm-l6 --strategy full")
    small = advise(rows=5000, labels=2, max_memory=f"{profiles[0]['memory_mb'] - 1}MB", models=MINILM, runs=tmp_path)
    assert small["compression"] == "dynamic-int8" and any("compress" in c for c in small["commands"])
    impossible = advise(rows=40, labels=2, max_latency="0.001ms", models=MINILM, runs=tmp_path)
    assert not impossible["fits"] and "no measured model meets" in impossible["why"][0]
    assert impossible["strategy"] == "few-shot"
    assert advise(rows=5000, labels=2, budget="2m", models=MINILM, runs=tmp_path)["strategy"] == "head-only"
    with pytest.raises(InputError, match="classification only"):
        advise(task="generate", models=MINILM)


def test_past_runs_give_the_accuracy(tmp_path, tiny_bert_dir):
    from tests.test_train_core import write_sentiment

    data = write_sentiment(tmp_path / "reviews.csv", n=60)
    run = tamellm.train(data=str(data), model=str(tiny_bert_dir), strategy="full", epochs=1, batch_size=16,
                        output=str(tmp_path / "runs"))
    found = past_accuracy(tmp_path / "runs")
    assert found[(tiny_bert_dir.name, "none")]["accuracy"] == run.metrics["test"]["accuracy"]


def test_cli_json_has_the_fields_checks_read(profiles, tmp_path):
    data = tmp_path / "d.csv"
    data.write_text("text,label\n" + "".join(f"text {i},{'ab'[i % 2]}\n" for i in range(100)), encoding="utf-8")
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    out = subprocess.run([sys.executable, "-m", "tamellm.cli.main", "advise", "--task", "classify", "--data",
                          str(data), "--max-latency", "20ms", "--runs", str(tmp_path), "--models", "minilm-l6",
                          "--json"],
                         capture_output=True, text=True, env=env, timeout=600)
    assert out.returncode == 0, out.stderr
    advice = json.loads(out.stdout)
    assert {"model", "strategy", "compression", "expected", "commands"} <= set(advice)
    assert advice["constraints"]["rows"] == 100 and advice["constraints"]["labels"] == 2
    assert isinstance(advice["expected"]["latency_ms"], float)
