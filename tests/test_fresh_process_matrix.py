"""Every trained model works in every command, in a new process, from a moved folder, with another TAMELLM_HOME.

For each strategy AutoTune can choose and each task that strategy trains, a tiny model is
trained in this process; its model folder is then moved elsewhere and the base model it
was trained from is deleted, as if the folder had been copied to another machine. Each
command (``eval``, ``predict``, ``explain``, ``compress``, ``serve`` with one real HTTP
request, and ``tamellm.load``) then runs in a new subprocess with a fresh ``TAMELLM_HOME``.
A cell either works, or fails with exit code, ``error:`` line and hint saying why and what
to do instead; ``EXPECTED_ERRORS`` lists those documented reasons, and any other outcome
fails its test.

Every new process pays ~6 s of CPU importing torch and transformers, so by default each
command runs on each distinct folder *layout*: strategies that write the same layout (same
kind, architecture, model type and files: lora and full merge into one plain model for NER,
few-shot and head-only both write the mean-pooling classifier) are checked to be
identical in layout and share their twin's cells. ``TAMELLM_MATRIX_FULL=1`` runs every
strategy's own folder through every command (about 3x longer); ``TAMELLM_MATRIX_MD=path``
writes the strategy x command table as Markdown.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.test_train_core import write_sentiment

STRATEGIES = ("full", "lora", "head-only", "few-shot", "prompt-tuning", "prefix-tuning")
TASKS = ("classify", "ner", "generate")
COMMANDS = ("eval", "predict", "explain", "compress", "serve", "load")
# The methods compress tries per strategy: one each keeps the test fast, and together they
# write every kind of compressed folder (int8 "compressed", ONNX, distilled, pruned), each
# then loaded in a further new process.
COMPRESS_METHODS = {"full": "onnx-int8", "lora": "prune-structured", "head-only": "dynamic-int8",
                    "few-shot": "distill"}
# (strategy or "*", task, command) -> (exit code, text the error line must contain).
EXPECTED_ERRORS: dict[tuple[str, str, str], tuple[int, str]] = {
    ("*", "ner", "compress"): (2, "compress measures accuracy on classifiers, so it takes classifiers only"),
    ("*", "generate", "compress"): (2, "compress measures accuracy on classifiers, so it takes classifiers only"),
    ("prompt-tuning", "classify", "compress"): (2, "(kind peft) and cannot be compressed"),
    ("prefix-tuning", "classify", "compress"): (2, "(kind peft) and cannot be compressed"),
    # Prompt/prefix-tuned classifiers explain by removing words (occlusion); chat models steered by
    # virtual tokens are not explained (tasks/generate.py: PeftGenerator.explain_hint says why).
    ("prompt-tuning", "generate", "explain"): (2, "Explanations are not available for task 'generate'"),
    ("prefix-tuning", "generate", "explain"): (2, "Explanations are not available for task 'generate'"),
}
# A strategy whose folder has the same layout as another's -> that one (see the module docstring).
# lora-classify runs its own cells: it writes the mean-pooling classifier like head-only, and its compress
# method (structured pruning) is the only one that prunes that architecture.
LAYOUT_TWINS = {("few-shot", "classify"): ("head-only", "classify"),
                ("lora", "ner"): ("full", "ner"), ("head-only", "ner"): ("full", "ner"),
                ("full", "generate"): ("lora", "generate")}
FULL = os.environ.get("TAMELLM_MATRIX_FULL", "") == "1"
SUBPROCESS_TIMEOUT = 150

# A guard against a hung command, not a speed check: ~4 min on an idle 2-core machine (about 430 CPU-seconds),
# several times that when the cores are shared; each command has its own SUBPROCESS_TIMEOUT too.
pytestmark = pytest.mark.timeout(int(os.environ.get("TAMELLM_MATRIX_TIMEOUT", 2400 if FULL else 1200)))


def combinations() -> list[tuple[str, str]]:
    """Every (strategy, task) to check: each strategy with every task it trains."""
    from tamellm.training.strategies import STRATEGIES as REGISTRY

    return [(s, t) for s in STRATEGIES for t in TASKS if t in REGISTRY[s].tasks]


# --- data --------------------------------------------------------------------------------------

NAMES, PLACES = ["alice", "bob", "carol", "dave"], ["paris", "london", "berlin", "rome"]


def write_conll(path: Path, n: int = 30) -> Path:
    rng = random.Random(0)
    blocks = [f"{rng.choice(NAMES)} B-PER\nwent O\nto O\n{rng.choice(PLACES)} B-LOC\ntoday O\n" for _ in range(n)]
    path.write_text("\n".join(blocks), encoding="utf-8")
    return path


def write_faq(path: Path, n: int = 16) -> Path:
    rows = [{"question": f"what is the code for {w}?", "answer": f"the code is {w}"} for w in (NAMES * 8)[:n]]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


@dataclass
class Data:
    """Training and evaluation files per task, and a texts-only file for predict."""

    train: dict[str, Path]
    evaluate: dict[str, Path]
    texts: Path


def make_data(root: Path) -> Data:
    root.mkdir(parents=True, exist_ok=True)
    train = {"classify": write_sentiment(root / "reviews.csv", n=48), "ner": write_conll(root / "train.conll"),
             "generate": write_faq(root / "faq.jsonl")}
    evaluate = {"classify": write_sentiment(root / "dev.csv", n=16, seed=5),
                "ner": write_conll(root / "dev.conll", n=6), "generate": write_faq(root / "dev.jsonl", n=4)}
    texts = root / "texts.csv"
    texts.write_text("text\nbob went to rome today\nthe film was great and the cast too\n", encoding="utf-8")
    return Data(train, evaluate, texts)


# --- training (in this process) ---------------------------------------------------------------

def train_folder(strategy: str, task: str, base: Path, data: Data, work: Path, shipped: Path) -> Path:
    """Train from a private copy of ``base``, then move the model folder to ``shipped`` and delete the rest."""
    from tamellm.config import config_from_dict
    from tamellm.training.run import train_model

    creator = work / f"{strategy}-{task}"
    base_copy = shutil.copytree(base, creator / "base-model")
    config = config_from_dict({"task": task, "model": str(base_copy), "seed": 0, "output": str(creator / "runs"),
                               "data": {"train": str(data.train[task])}})
    params = {"strategy": strategy, "epochs": 1, "batch_size": 16, "max_length": 32, "early_stopping_patience": 0,
              "learning_rate": 1e-3, "lora_r": 4, "lora_alpha": 8, "num_virtual_tokens": 4}
    result = train_model(config, run_dir=creator / "run", params=params)
    target = shipped / f"{strategy}-{task}"
    shutil.move(str(result.model_dir), target)
    shutil.rmtree(creator)  # the base and the run are gone: the folder must stand alone
    return target


@pytest.fixture(scope="module")
def trained(tmp_path_factory, tiny_sentence_dir, tiny_bert_dir, tiny_gpt2_dir) -> dict[tuple[str, str], Path]:
    import torch

    root = tmp_path_factory.mktemp("matrix")
    data = make_data(root / "data")
    bases = {"classify": tiny_sentence_dir, "ner": tiny_bert_dir, "generate": tiny_gpt2_dir}
    shipped = root / "shipped"
    shipped.mkdir()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    previous = os.environ.get("TAMELLM_TRACKING")
    os.environ["TAMELLM_TRACKING"] = "0"
    try:
        folders = {(s, t): train_folder(s, t, bases[t], data, root / "creator", shipped) for s, t in combinations()}
    finally:
        torch.set_num_threads(threads)
        if previous is None:
            os.environ.pop("TAMELLM_TRACKING", None)
        else:
            os.environ["TAMELLM_TRACKING"] = previous
    folders[("data", "")] = root / "data"
    return folders


# --- the commands (each in a new process) -----------------------------------------------------

@dataclass
class Cell:
    """One command on one folder: "pass", or the error it ended with."""

    ok: bool
    detail: str
    code: int = 0
    seconds: float = 0.0


def fresh_env(home: Path) -> dict[str, str]:
    """A process environment with its own TAMELLM_HOME, one torch thread and no progress bars."""
    env = {**os.environ, "TAMELLM_HOME": str(home), "TAMELLM_PROGRESS": "0", "TAMELLM_TRACKING": "0",
           "OMP_NUM_THREADS": "1", "TAMELLM_API_KEYS": ""}
    env.pop("TAMELLM_ALLOW_NETWORK", None)
    return env


def tamellm(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """``tamellm ARGS`` in a new process started in ``cwd`` with a fresh home."""
    return subprocess.run([sys.executable, "-m", "tamellm.cli.main", *args], cwd=cwd, env=fresh_env(cwd / "home"),
                          capture_output=True, text=True, timeout=SUBPROCESS_TIMEOUT)


def outcome(proc: subprocess.CompletedProcess, check: Callable[[str], str]) -> Cell:
    """The cell of a finished command: ``check(stdout)`` returns the pass detail (raises when wrong)."""
    if proc.returncode == 0:
        return Cell(True, check(proc.stdout))
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    errors = [i for i, line in enumerate(lines) if line.startswith("error: ")]
    detail = " ".join(lines[errors[-1]:]) if errors else "\n".join(lines[-15:])
    return Cell(False, detail, proc.returncode)


LOAD_SCRIPT = """
import json, sys
import tamellm
model = tamellm.load(sys.argv[1])
out = model.predict(sys.argv[2], **({"max_new_tokens": 4} if model.task == "generate" else {}))
print(json.dumps({"task": model.task, "result": out.to_dict()}))
"""


def load_in_new_process(folder: Path, text: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", LOAD_SCRIPT, str(folder), text], cwd=cwd,
                          env=fresh_env(cwd / "home"), capture_output=True, text=True, timeout=SUBPROCESS_TIMEOUT)


EVAL_FILES = {"classify": "dev.csv", "ner": "dev.conll", "generate": "dev.jsonl"}
TEXT = {"classify": "the film was great and the cast too", "ner": "bob went to rome today",
        "generate": "what is the code for bob?"}


def run_eval(folder: Path, task: str, strategy: str, data: Path, cwd: Path) -> Cell:
    def check(out: str) -> str:
        result = json.loads(out)
        assert result["task"] == task, result
        metric = {"classify": "accuracy", "ner": "f1"}.get(task)
        return f"{metric} {result[metric]:.2f}" if metric else "pass"

    return outcome(tamellm("eval", str(folder), "--data", str(data / EVAL_FILES[task]), "--json", cwd=cwd), check)


def run_predict(folder: Path, task: str, strategy: str, data: Path, cwd: Path) -> Cell:
    def check(out: str) -> str:
        info = json.loads(out)
        assert info["rows"] == 2 and Path(info["output"]).is_file(), info
        return "pass"

    return outcome(tamellm("predict", str(folder), "--data", str(data / "texts.csv"), "--output",
                           str(cwd / "preds.csv"), "--json", cwd=cwd), check)


def run_explain(folder: Path, task: str, strategy: str, data: Path, cwd: Path) -> Cell:
    def check(out: str) -> str:
        result = json.loads(out)
        assert result["words"] or result["per_label"], result
        return "pass"

    return outcome(tamellm("explain", str(folder), TEXT[task], "--json", cwd=cwd), check)


def run_compress(folder: Path, task: str, strategy: str, data: Path, cwd: Path) -> Cell:
    method = COMPRESS_METHODS.get(strategy, "dynamic-int8")
    out = cwd / "compressed"
    proc = tamellm("compress", str(folder), "--data", str(data / "dev.csv"), "--train-data",
                   str(data / "reviews.csv"), "--methods", method, "--max-drop", "1", "--budget", "2",
                   "--output", str(out), "--json", cwd=cwd)

    def check(stdout: str) -> str:
        result = json.loads(stdout)
        assert result["chosen"] == method, result
        loaded = load_in_new_process(out, TEXT[task], cwd)  # the compressed folder, in yet another process
        assert loaded.returncode == 0, loaded.stderr[-2000:]
        assert json.loads(loaded.stdout)["task"] == task
        return f"pass ({method}, loads)"

    return outcome(proc, check)


def run_load(folder: Path, task: str, strategy: str, data: Path, cwd: Path) -> Cell:
    def check(out: str) -> str:
        assert json.loads(out)["task"] == task
        return "pass"

    return outcome(load_in_new_process(folder, TEXT[task], cwd), check)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run_serve(folder: Path, task: str, strategy: str, data: Path, cwd: Path) -> Cell:
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    process = subprocess.Popen([sys.executable, "-m", "tamellm.cli.main", "serve", str(folder), "--port", str(port)],
                               cwd=cwd, env=fresh_env(cwd / "home"), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    try:
        deadline = time.monotonic() + SUBPROCESS_TIMEOUT
        while time.monotonic() < deadline and process.poll() is None:
            try:
                if httpx.get(url + "/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        if process.poll() is not None or time.monotonic() >= deadline:
            process.kill()
            _, err = process.communicate()
            failed = outcome(subprocess.CompletedProcess(process.args, process.returncode or -1, "", err), str)
            return Cell(False, f"server did not become ready: {failed.detail}", failed.code)
        route, body = {"classify": ("/v1/classify", {"input": TEXT[task]}),
                       "ner": ("/v1/ner", {"input": TEXT[task]}),
                       "generate": ("/v1/chat/completions",
                                    {"messages": [{"role": "user", "content": TEXT[task]}], "max_tokens": 4})}[task]
        response = httpx.post(url + route, json=body, timeout=SUBPROCESS_TIMEOUT)
        if response.status_code != 200:
            return Cell(False, f"HTTP {response.status_code}: {response.text[:300]}", response.status_code)
        answer = response.json()
        assert answer.get("data") or answer.get("choices"), answer
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        try:
            _, err = process.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            _, err = process.communicate()
    if process.returncode != 0:
        return Cell(False, f"server exited {process.returncode} after SIGTERM: {err[-500:]}", process.returncode)
    return Cell(True, "pass")


RUNNERS = {"eval": run_eval, "predict": run_predict, "explain": run_explain, "compress": run_compress,
           "serve": run_serve, "load": run_load}


@pytest.fixture(scope="module")
def matrix(trained, tmp_path_factory) -> dict[tuple[str, str, str], Cell]:
    """Every command on every folder, two at a time (each command is one new process, one torch thread)."""
    data = trained[("data", "")]
    root = tmp_path_factory.mktemp("cells")
    jobs = [(s, t, c) for s, t in combinations() if FULL or (s, t) not in LAYOUT_TWINS for c in COMMANDS]

    def run(job: tuple[str, str, str]) -> Cell:
        strategy, task, command = job
        cwd = root / "-".join(job)
        cwd.mkdir()
        start = time.monotonic()
        try:
            cell = RUNNERS[command](trained[(strategy, task)], task, strategy, data, cwd)
        except Exception as exc:  # a wrong answer: recorded, and the cell's test fails with it
            cell = Cell(False, f"{type(exc).__name__}: {exc}"[:1000], -1)
        cell.seconds = time.monotonic() - start
        return cell

    with ThreadPoolExecutor(max_workers=2) as pool:
        cells = dict(zip(jobs, pool.map(run, jobs), strict=True))
    for (strategy, task), (twin, _) in ([] if FULL else LAYOUT_TWINS.items()):
        for command in COMMANDS:
            cell = cells[(twin, task, command)]
            cells[(strategy, task, command)] = Cell(cell.ok, f"{cell.detail} (layout of {twin})" if cell.ok
                                                    else cell.detail, cell.code)
    target = os.environ.get("TAMELLM_MATRIX_MD")
    if target:
        Path(target).write_text(markdown(cells), encoding="utf-8")
    return cells


def expected_error(strategy: str, task: str, command: str) -> tuple[int, str] | None:
    return EXPECTED_ERRORS.get((strategy, task, command)) or EXPECTED_ERRORS.get(("*", task, command))


def markdown(cells: dict[tuple[str, str, str], Cell]) -> str:
    """The strategy x command table: pass, or a note [n] naming the error (exit code, message, hint) below it."""
    notes: dict[str, int] = {}
    lines = ["| strategy | task | " + " | ".join(COMMANDS) + " |", "|---|---|" + "---|" * len(COMMANDS)]
    for strategy, task in combinations():
        row = []
        for command in COMMANDS:
            cell = cells[(strategy, task, command)]
            if cell.ok:
                row.append(cell.detail)
                continue
            reason = " ".join(f"exit {cell.code}: {cell.detail}".replace(f"'{strategy}-{task}'", "MODEL").split())
            row.append(f"[{notes.setdefault(reason, len(notes) + 1)}]")
        lines.append(f"| {strategy} | {task} | " + " | ".join(row) + " |")
    lines += ["", *[f"[{n}] {reason}" for reason, n in notes.items()]]
    return "\n".join(lines) + "\n"


# --- the tests ---------------------------------------------------------------------------------

def test_the_matrix_covers_every_strategy_autotune_searches():
    import tamellm.tasks  # noqa: F401 - registers the task specs
    from tamellm.tasks.spec import task_spec

    pairs = combinations()
    for task in TASKS:
        assert {(s, task) for s in task_spec(task).auto_strategies} <= set(pairs), task
    assert ("few-shot", "classify") in pairs  # AutoTune adds it for small classification data
    assert {s for s, _ in pairs} == set(STRATEGIES)


def layout(folder: Path) -> dict:
    """What decides how every command reads a folder: kind, task, architecture, model type and file names."""
    manifest = json.loads((folder / "tamellm.json").read_text(encoding="utf-8"))
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    return {"kind": manifest["kind"], "task": manifest["task"], "architectures": config.get("architectures"),
            "model_type": config.get("model_type"), "files": sorted(p.name for p in folder.iterdir())}


@pytest.mark.parametrize(("strategy", "task"), sorted(LAYOUT_TWINS))
def test_layout_twins_write_the_same_folder_layout(trained, strategy, task):
    twin, _ = LAYOUT_TWINS[(strategy, task)]
    assert layout(trained[(strategy, task)]) == layout(trained[(twin, task)])


@pytest.mark.parametrize(("strategy", "task"), combinations())
def test_folder_has_no_absolute_path_it_depends_on(trained, strategy, task):
    folder = trained[(strategy, task)]
    manifest = json.loads((folder / "tamellm.json").read_text(encoding="utf-8"))
    assert "base_model_path" not in manifest or not Path(manifest["base_model_path"]).is_absolute()
    if manifest["kind"] == "peft":  # the base is not in the catalog: it travels inside the folder
        assert manifest["base_model_path"] == "base" and (folder / "base" / "config.json").is_file()


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize(("strategy", "task"), combinations())
def test_command_works_in_a_new_process_or_says_why_not(matrix, strategy, task, command):
    cell = matrix[(strategy, task, command)]
    expected = expected_error(strategy, task, command)
    if expected is None:
        assert cell.ok, f"{command} of a {strategy} {task} folder failed (exit {cell.code}): {cell.detail}"
        return
    code, reason = expected
    assert not cell.ok and cell.code == code, f"expected exit {code} ({reason}), got: {cell.detail}"
    assert cell.detail.startswith("error: ") and reason in cell.detail and "hint: " in cell.detail, cell.detail
