"""The web page in a real browser (Debian's Chromium through Playwright) against a real ``tamellm serve``.

One server (tiny models, an API key, a runs folder holding a run trained in-process) and one
browser for the whole module. Every page checks that no request left 127.0.0.1, that
nothing was logged to the console as an error and that no dialog (an injected script) opened.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

CHROMIUM = os.environ.get("TAMELLM_CHROMIUM", "/usr/bin/chromium")
# Belt and braces beside the route interception of every context (Watch): no host name resolves.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"]
KEY = "ui-test-key-0123456789"
MALICIOUS = "<img src=x onerror=alert(1)>"
GOOD = ["great phone", "I love this restaurant", "the food is wonderful", "a wonderful film"]
BAD = ["awful soup", "the service was terrible", "boring and far too long", "a terrible phone"]
AXE = Path(__file__).parent / "vendor" / "axe.min.js"
# The speech extra and a way to make speech offline: then the server also loads Whisper.
SPEECH = importlib.util.find_spec("faster_whisper") is not None and shutil.which("espeak-ng") is not None
FILMS = [("space1", "Star Voyage", "a crew travels to a distant planet"),
         ("space2", "Moon Base", "astronauts build a base on the moon"),
         ("rom1", "Paris Love", "two strangers fall in love in Paris"),
         ("rom2", "Summer Letters", "a couple writes letters all summer"),
         ("hor1", "The Attic", "a ghost haunts an old house"), ("hor2", "Night Crawl", "zombies attack a small town")]
LIKES = {"u1": ["space1", "space2", "rom1"], "u2": ["rom1", "rom2"], "u3": ["hor1", "hor2", "space1"],
         "u4": ["space2", "space1"]}
MONITOR_WATCH = {"ACME": ["Acme Corp"], "GLOBEX": ["Globex"]}
SECTIONS = ("playground", "train", "runs", "models", "apps")

if not (shutil.which(CHROMIUM) or Path(CHROMIUM).is_file()):
    pytest.skip(f"BROWSER TESTS SKIPPED: no Chromium at {CHROMIUM} (`make test` installs it with apt-get; "
                "or set TAMELLM_CHROMIUM)", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="BROWSER TESTS SKIPPED: pip install playwright")
sync_api.expect.set_options(timeout=20_000)  # a busy 2-core machine: model calls can take seconds


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _reviews(path: Path) -> Path:
    rows = ["review,stars"] + [f"{t},good" for t in GOOD * 4] + [f"{t},bad" for t in BAD * 4]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def _train_cli_run(root: Path, base: Path) -> None:
    """A run trained with the public API, as `tamellm train` leaves it, in ``root/cli-run``."""
    import tamellm

    data = _reviews(root.parent / "reviews.csv")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TAMELLM_TRACKING", "0")
        tamellm.train(data, model=str(base), run_dir=root / "cli-run", strategy="head-only", epochs=2,
                      max_length=16, eval_steps=2)
    shutil.copytree(root / "cli-run", root / "cli-run-copy")  # a second run, to compare with


@pytest.fixture(scope="module")
def long_the_gpt2_dir(tmp_path_factory, gpt2_tokenizer) -> Path:
    """Like conftest's tiny_gpt2_the_dir (" the the the ..." until stopped) with room for 4000 tokens,
    so that a stream lasts long enough to be stopped from the page."""
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    torch.manual_seed(4)
    tok = gpt2_tokenizer
    config = GPT2Config(vocab_size=len(tok), n_positions=4096, n_embd=32, n_layer=2, n_head=2,
                        bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id)
    model = GPT2LMHeadModel(config)
    (token_id,) = tok(" the", add_special_tokens=False)["input_ids"]
    with torch.no_grad():  # the final norm outputs one vector: the (tied) embedding of " the"
        direction = torch.ones(config.n_embd)
        model.transformer.ln_f.weight.zero_()
        model.transformer.ln_f.bias.copy_(direction)
        model.transformer.wte.weight[token_id] = direction * 10
    folder = tmp_path_factory.mktemp("long-the-gpt2")
    model.save_pretrained(folder, safe_serialization=True)
    tok.save_pretrained(folder)
    return folder


def _apps(folder: Path, encoder: Path, classifier: Path) -> list[str]:
    """A FAQ and a recommender (both with the tiny encoder) and a sentiment monitor (the tiny classifier):
    their serve flags."""
    import yaml

    from tamellm.apps.faq import build_faq
    from tamellm.apps.recommend import build_recommender

    faq = folder / "faq.csv"
    faq.write_text("question,answer\nHow do I reset my password?,Use the Forgot password link on the login page.\n"
                   "Where is my card?,Cards arrive within five working days.\n"
                   "How do I close my account?,Write to support and we close it within a day.\n", encoding="utf-8")
    build_faq(faq, folder / "bank", str(encoder))
    (folder / "watch.yaml").write_text(yaml.safe_dump(MONITOR_WATCH))
    config = {"fin": {"model": str(classifier), "watchlist": str(folder / "watch.yaml"),
                      "state": str(folder / "monitor.db"), "window": "1h"}}
    (folder / "monitors.yaml").write_text(yaml.safe_dump(config))
    (folder / "movies.csv").write_text("movieId,title,description\n" + "".join(
        f"{i},{t},{d}\n" for i, t, d in FILMS), encoding="utf-8")
    rows = [f"{user},{item},5,{1_600_000_000 + 60 * n}\n" for n, (user, item) in enumerate(
        (u, i) for u, likes in LIKES.items() for i in likes)]
    (folder / "ratings.csv").write_text("userId,movieId,rating,timestamp\n" + "".join(rows), encoding="utf-8")
    build_recommender(folder / "ratings.csv", folder / "movies.csv", folder / "films", encoder=str(encoder))
    return ["--faq", f"bank={folder / 'bank'}", "--monitors", str(folder / "monitors.yaml"),
            "--recommender", f"films={folder / 'films'}"]


INTERRUPTED_JOB = "0123456789ab"


def _earlier_server_job(runs_dir: Path) -> None:
    """The jobs file an earlier server left while one of its jobs ran (a stand-in command: it only sleeps)."""
    job = {"id": INTERRUPTED_JOB, "kind": "train", "command": [sys.executable, "-c", "import time; time.sleep(120)"],
           "run_dir": str(runs_dir / "ui-earlier"), "options": {"strategy": "head-only"}, "status": "running",
           "created": time.time() - 60, "started": time.time() - 50}
    (runs_dir / ".tamellm-jobs.json").write_text(json.dumps({"jobs": [job]}), encoding="utf-8")


@pytest.fixture(scope="module")
def server(tmp_path_factory, tiny_classifier_dir, tiny_bert_dir, tiny_ner_dir, long_the_gpt2_dir):
    """`tamellm serve` in a subprocess on a free loopback port, with an API key, a runs folder and two apps.

    The run in the runs folder is trained while the server loads its models. The server's log
    goes to a file: an unread pipe fills up after a few hundred requests and then blocks the
    server on its next log line.
    """
    runs_dir = tmp_path_factory.mktemp("ui-runs")
    port = _free_port()
    env = {**os.environ, "TAMELLM_API_KEYS": KEY, "TAMELLM_RUNS_DIR": str(runs_dir), "TAMELLM_TRACKING": "0"}
    models = [str(p) for p in (tiny_classifier_dir, tiny_bert_dir, tiny_ner_dir, long_the_gpt2_dir)]
    models += ["whisper-tiny-en"] if SPEECH else []
    apps = _apps(tmp_path_factory.mktemp("ui-apps"), tiny_bert_dir, tiny_classifier_dir)
    _earlier_server_job(runs_dir)
    log_path = runs_dir.parent / "server.log"
    with log_path.open("w", encoding="utf-8") as log:
        process = subprocess.Popen([sys.executable, "-m", "tamellm.cli.main", "serve", *models, "--port", str(port),
                                    "--backend", "transformers", *apps], stdout=log, stderr=log, env=env)
    url = f"http://127.0.0.1:{port}"
    _train_cli_run(runs_dir, tiny_bert_dir)
    deadline = time.monotonic() + 120
    while True:
        if process.poll() is not None:
            raise AssertionError(f"server exited {process.returncode}: {log_path.read_text()[-3000:]}")
        try:
            if httpx.get(url + "/readyz", timeout=2).status_code == 200:
                break
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            process.kill()
            raise AssertionError("server not ready in 120 s")
        time.sleep(0.25)
    yield {"url": url, "port": port, "models": [Path(m).name for m in models], "log": log_path}
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class Watch:
    """What a page did that it must not: requests off the server, console errors, dialogs."""

    def __init__(self, port: int) -> None:
        self.origin = f"http://127.0.0.1:{port}"
        self.outside: list[str] = []
        self.console: list[str] = []
        self.dialogs: list[str] = []
        self.allowed_console: tuple[str, ...] = ()

    def route(self, route) -> None:
        url = route.request.url
        if url.startswith(self.origin + "/") or url == self.origin:
            route.continue_()
        else:
            self.outside.append(url)
            route.abort()

    def on_console(self, message) -> None:
        if message.type == "error" and not any(a in message.text for a in self.allowed_console):
            self.console.append(message.text)

    def check(self) -> None:
        assert self.outside == [], f"requests left 127.0.0.1: {self.outside}"
        assert self.console == [], f"console errors: {self.console}"
        assert self.dialogs == [], f"dialogs opened (injected script?): {self.dialogs}"


def _open(browser, server, width: int = 1280, key: str | None = KEY, **options):
    context = browser.new_context(viewport={"width": width, "height": 900}, **options)
    watch = Watch(server["port"])
    context.route("**/*", watch.route)
    if key:
        context.add_init_script(f"sessionStorage.setItem('tamellm.apiKey', {json.dumps(key)})")
    page = context.new_page()
    page.on("console", watch.on_console)
    page.on("pageerror", lambda exc: watch.console.append(f"page error: {exc}"))
    page.on("dialog", lambda dialog: (watch.dialogs.append(dialog.message), dialog.dismiss()))
    page.set_default_timeout(30_000)
    return context, page, watch


@pytest.fixture
def page(browser, server):
    context, page, watch = _open(browser, server)
    page.goto(server["url"] + "/")
    page.locator("body[data-ready=true]").wait_for(state="attached")
    yield page
    try:
        watch.check()
    finally:
        context.close()


def _model(server, prefix: str) -> str:
    return next(name for name in server["models"] if name.startswith(prefix))


def test_page_is_served_with_a_strict_content_security_policy(server):
    answer = httpx.get(server["url"] + "/")
    assert answer.status_code == 200 and "text/html" in answer.headers["content-type"]
    policy = answer.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "script-src 'self'" in policy and "unsafe" not in policy
    assert 'data-testid="nav-playground"' in answer.text
    assert httpx.get(server["url"] + "/ui/static/js/app.js").status_code == 200
    assert httpx.get(server["url"] + "/ui/api/runs").status_code == 401  # the data needs the key


def test_a_request_off_the_server_is_seen_and_fails(browser, server):
    """The guard every page runs under works: a request to another host is logged and goes nowhere.

    (The page's own CSP refuses such a fetch before it is made; this context bypasses the CSP
    to check the guard behind it.)
    """
    context, page, watch = _open(browser, server, bypass_csp=True)
    try:
        page.goto(server["url"] + "/")
        failed = page.evaluate("fetch('http://example.com/x').then(() => false, () => true)")
        assert failed and watch.outside == ["http://example.com/x"]
    finally:
        context.close()


def test_classify_zero_shot_and_fine_tuned(page, server):
    page.get_by_test_id("classify-model").select_option(_model(server, "tiny-bert"))
    page.get_by_test_id("classify-labels").fill("sports, politics, weather")
    page.get_by_test_id("classify-text").fill("The team won the cup")
    page.get_by_test_id("classify-submit").click()
    label = page.get_by_test_id("classify-result-label")
    label.wait_for()
    assert label.inner_text() in {"sports", "politics", "weather"}
    assert page.get_by_test_id("classify-bar").count() == 3
    page.get_by_test_id("classify-model").select_option(_model(server, "tiny-classifier"))
    sync_api.expect(page.get_by_test_id("classify-labels")).to_be_disabled()
    page.get_by_test_id("classify-submit").click()
    sync_api.expect(page.get_by_test_id("classify-bar")).to_have_count(2)
    assert page.get_by_test_id("classify-result-label").inner_text() in {"positive", "negative"}
    hint = page.get_by_test_id("code-hint").first
    assert "tamellm.classify(" in hint.text_content() and "tamellm classify" in hint.text_content()


def test_compare_two_models_on_the_same_text(page, server):
    page.get_by_test_id("classify-model").select_option(_model(server, "tiny-classifier"))
    page.get_by_test_id("classify-compare").select_option(_model(server, "tiny-bert"))
    sync_api.expect(page.get_by_test_id("classify-labels")).to_be_enabled()  # the second model is zero-shot
    page.get_by_test_id("classify-labels").fill("sports, weather")
    page.get_by_test_id("classify-submit").click()
    sync_api.expect(page.get_by_test_id("compare-bar")).to_have_count(2)
    assert page.get_by_test_id("classify-result-label").inner_text() in {"positive", "negative"}
    assert page.get_by_test_id("compare-result-label").inner_text() in {"sports", "weather"}
    assert _model(server, "tiny-bert") in page.get_by_test_id("classify-compare-result").inner_text()


def test_summarize_with_the_chat_model(page):
    page.locator("#summarize-words").fill("5")
    page.get_by_test_id("summarize-submit").click()
    sync_api.expect(page.get_by_test_id("summarize-result")).to_contain_text("the")
    assert "--max-words 5" in page.locator("#summarize-hint").text_content()


def test_why_shows_a_score_per_word(page, server):
    page.get_by_test_id("classify-model").select_option(_model(server, "tiny-classifier"))
    page.get_by_test_id("classify-text").fill("the film was boring")
    page.get_by_test_id("classify-submit").click()
    page.get_by_test_id("classify-result-label").wait_for()
    page.get_by_test_id("explain-method").select_option("occlusion")
    page.get_by_test_id("classify-explain").click()
    words = page.get_by_test_id("explanation-word")
    sync_api.expect(words).to_have_count(4)
    assert [w.locator(".w").inner_text() for w in words.all()] == ["the", "film", "was", "boring"]
    scores = [float(w.get_attribute("data-score")) for w in words.all()]
    assert any(s != 0 for s in scores)
    assert "occlusion" in page.locator("#classify-explanation").inner_text()
    assert page.get_by_test_id("explanation-legend").is_visible()
    tabs = page.get_by_test_id("explanation-tab")
    assert tabs.count() == 2  # one per class: the scores toward each label
    other = next(t for t in tabs.all() if t.get_attribute("aria-selected") == "false")
    other.click()
    sync_api.expect(page.locator("#classify-explanation h3")).to_contain_text(other.inner_text())
    sync_api.expect(other).to_have_attribute("aria-selected", "true")
    # Scores are also text (not colour alone) and each word has an accessible name with its score.
    assert words.first.locator(".s").inner_text().strip() != ""
    assert "the:" in words.first.get_attribute("aria-label")
    # Faithfulness of the method on this text, beside the random baseline.
    page.get_by_test_id("explain-faithfulness").click()
    rows = page.get_by_test_id("faithfulness-table").locator("tbody tr")
    sync_api.expect(rows).to_have_count(2)
    assert {r.get_attribute("data-method") for r in rows.all()} == {"occlusion", "random"}
    assert all(r.locator("td").first.inner_text() != "–" for r in rows.all())
    assert "tamellm.compare_explainers(" in page.locator("#classify-hint").text_content()


def test_malicious_text_is_shown_as_text(page, server):
    page.get_by_test_id("classify-model").select_option(_model(server, "tiny-classifier"))
    page.get_by_test_id("classify-text").fill(MALICIOUS)
    page.get_by_test_id("classify-submit").click()
    page.get_by_test_id("classify-result-label").wait_for()
    page.get_by_test_id("classify-explain").click()
    page.get_by_test_id("explanation-word").first.wait_for()
    page.get_by_test_id("chat-input").fill(MALICIOUS)
    page.locator("#chat-max-tokens").fill("3")
    page.get_by_test_id("chat-send").click()
    sync_api.expect(page.get_by_test_id("chat-message-user")).to_have_text("You" + MALICIOUS)
    assert page.locator("main img").count() == 0  # nothing parsed as HTML
    assert MALICIOUS in page.locator("#classify-hint").text_content()
    sync_api.expect(page.get_by_test_id("chat-send")).to_be_enabled()


def test_chat_streams_and_stop_ends_it(page, server):
    page.locator("#chat-max-tokens").fill("3000")
    # Click Stop from inside the page as soon as the first words arrive (a tiny model streams fast).
    page.evaluate("""() => new MutationObserver((_, observer) => {
        const answer = document.querySelector('[data-testid=chat-message-assistant] .text');
        if (answer && answer.textContent.trim()) {
            document.getElementById('chat-stop').click();
            observer.disconnect();
        }
    }).observe(document.getElementById('chat-log'), {subtree: true, childList: true, characterData: true})""")
    page.get_by_test_id("chat-input").fill("Go on")
    page.get_by_test_id("chat-send").click()
    page.get_by_test_id("chat-stopped").wait_for()
    answer = page.get_by_test_id("chat-message-assistant").locator(".text").inner_text()
    assert 0 < answer.split().count("the") < 3000
    sync_api.expect(page.get_by_test_id("chat-send")).to_be_enabled()
    assert "tokens" in page.get_by_test_id("chat-speed").inner_text()
    # The next message streams to its end.
    page.locator("#chat-max-tokens").fill("12")
    page.get_by_test_id("chat-input").fill("Again")
    page.get_by_test_id("chat-send").click()
    second = page.get_by_test_id("chat-message-assistant").nth(1)
    sync_api.expect(page.get_by_test_id("chat-send")).to_be_enabled()
    assert second.locator(".text").inner_text().split().count("the") == 12
    assert "tokens/s" in page.get_by_test_id("chat-speed").inner_text()


def test_ner_highlights_spans(page):
    page.get_by_test_id("ner-text").fill("Barack Obama visited Paris")
    page.get_by_test_id("ner-submit").click()
    entity = page.get_by_test_id("ner-entity").first
    entity.wait_for()
    assert entity.get_attribute("data-label") in {"PER", "LOC"}
    assert page.get_by_test_id("ner-result").inner_text().replace("PER", "").replace("LOC", "").split() == \
        "Barack Obama visited Paris".split()
    page.get_by_test_id("ner-explain").click()
    words = page.locator("#ner-explanation [data-testid=explanation-word]")
    sync_api.expect(words).to_have_count(4)
    assert all(w.get_attribute("data-score") is not None for w in words.all())
    entities = page.get_by_test_id("ner-entity").count()
    tabs = page.locator("#ner-explanation [data-testid=explanation-tab]")
    assert tabs.count() == (entities if entities > 1 else 0)  # one tab per entity found
    if entities > 1:
        tabs.nth(1).click()
        sync_api.expect(page.locator("#ner-explanation h3")).to_contain_text(tabs.nth(1).inner_text())


@pytest.mark.skipif(not SPEECH, reason="needs the speech extra (faster-whisper) and espeak-ng to make a recording")
def test_transcribe_an_uploaded_recording(page, tmp_path):
    wav = tmp_path / "hello.wav"
    subprocess.run(["espeak-ng", "-w", str(wav), "Hello world, this is a test."], check=True, timeout=60)
    page.get_by_test_id("transcribe-file").set_input_files(str(wav))
    page.get_by_test_id("transcribe-submit").click()
    sync_api.expect(page.get_by_test_id("transcribe-text")).to_contain_text("ello", timeout=60_000)
    assert "tamellm transcribe hello.wav" in page.locator("#transcribe-hint").text_content()


def test_similarity_ranks_every_line(page):
    page.get_by_test_id("similarity-submit").click()
    sync_api.expect(page.get_by_test_id("similarity-item")).to_have_count(3)


def test_runs_page_shows_a_run_started_outside_the_page(page):
    page.get_by_test_id("nav-runs").click()
    row = page.locator("[data-testid=runs-row][data-run=cli-run]")
    sync_api.expect(row).to_have_count(1)
    assert "head-only" in row.inner_text()
    row.get_by_role("button", name="cli-run").click()
    page.get_by_test_id("run-metrics").wait_for()
    assert page.get_by_test_id("chart").count() >= 1 and page.locator("#run-detail svg").count() >= 1
    page.get_by_test_id("confusion-matrix").wait_for()
    page.get_by_test_id("run-try-submit").click()
    sync_api.expect(page.get_by_test_id("run-try-result")).to_contain_text("Prediction:")
    data = page.get_by_test_id("run-data")
    assert "train" in data.inner_text() and "review" in data.inner_text()  # rows per split, the text column
    # The run's model joins the playground's lists and classifies there.
    page.get_by_test_id("run-load").click()
    sync_api.expect(page.get_by_test_id("run-load-result")).to_contain_text("Loaded as")
    page.get_by_test_id("nav-playground").click()
    page.get_by_test_id("classify-model").select_option("cli-run")
    page.get_by_test_id("classify-text").fill("a wonderful film")
    page.get_by_test_id("classify-submit").click()
    sync_api.expect(page.locator("#classify-result .model-name")).to_have_text("cli-run")
    assert page.get_by_test_id("classify-result-label").inner_text() in {"good", "bad"}


def test_runs_compare_side_by_side(page):
    page.get_by_test_id("nav-runs").click()
    sync_api.expect(page.get_by_test_id("runs-row")).to_have_count(2)
    for tick in page.get_by_test_id("runs-tick").all():
        tick.check()
    page.get_by_test_id("runs-compare").click()
    comparison = page.get_by_test_id("runs-comparison")
    sync_api.expect(comparison).to_contain_text("cli-run vs cli-run-copy")
    assert comparison.locator("thead th").count() == 3 and comparison.locator("svg").count() >= 1


def test_compress_a_run_as_a_job(page):
    page.get_by_test_id("nav-runs").click()
    page.locator("[data-testid=runs-row][data-run=cli-run-copy]").get_by_role("button").click()
    page.get_by_test_id("compress-methods").fill("dynamic-int8")
    page.get_by_test_id("run-compress").click()
    sync_api.expect(page.get_by_test_id("compress-status")).to_contain_text("Compress job")
    table = page.get_by_test_id("run-compression")
    sync_api.expect(table).to_contain_text("dynamic-int8", timeout=150_000)  # the job ended; the detail reloaded
    assert table.locator("tbody tr").count() == 2  # the original and the candidate
    hint = page.locator("#run-detail [data-testid=code-hint]").text_content()
    assert "tamellm.compress(" in hint and "tamellm compress" in hint and "--methods dynamic-int8" in hint


def test_models_page_lists_loaded_models_and_the_catalog(page, server):
    page.get_by_test_id("nav-models").click()
    # The served models, and the run loaded from the Runs page.
    sync_api.expect(page.get_by_test_id("models-loaded-row")).to_have_count(len(server["models"]) + 1)
    assert page.get_by_test_id("models-loaded-row").filter(has_text="cli-run").count() == 1
    name_cell = page.get_by_role("cell", name="minilm-l6", exact=True)
    assert page.get_by_test_id("models-catalog-row").filter(has=name_cell).count() == 1


def test_api_key_flow(browser, server):
    context, page, watch = _open(browser, server, key=None)
    watch.allowed_console = ("401",)  # the browser logs the refused calls themselves
    try:
        page.goto(server["url"] + "/")
        banner = page.get_by_test_id("error-banner")
        sync_api.expect(banner).to_contain_text("needs an API key")
        page.get_by_test_id("api-key-input").fill("wrong-key-123456")
        page.get_by_test_id("api-key-save").click()
        sync_api.expect(banner).to_contain_text("Invalid API key")
        page.get_by_test_id("api-key-input").fill(KEY)
        page.get_by_test_id("api-key-save").click()
        sync_api.expect(banner).to_be_hidden()
        page.locator("body[data-ready=true]").wait_for(state="attached")
        assert page.evaluate("sessionStorage.getItem('tamellm.apiKey')") == KEY
        page.get_by_test_id("classify-submit").click()
        page.get_by_test_id("classify-result-label").wait_for()
        watch.check()
    finally:
        context.close()


def test_a_job_of_an_earlier_server_can_be_resumed(page):
    page.get_by_test_id("nav-train").click()
    status = page.get_by_test_id("train-status")
    sync_api.expect(status).to_have_attribute("data-status", "interrupted")
    assert INTERRUPTED_JOB in status.inner_text()
    page.get_by_test_id("train-resume").click()
    sync_api.expect(status).to_have_attribute("data-status", "running")
    assert "--resume" in page.locator("#train-hint").text_content()
    page.get_by_test_id("train-cancel").click()
    sync_api.expect(status).to_have_attribute("data-status", "cancelled")
    sync_api.expect(page.get_by_test_id("train-resume")).to_be_visible()  # a cancelled job can be resumed too


def test_train_from_upload_to_a_usable_model(page, server, tmp_path, tiny_bert_dir):
    page.get_by_test_id("nav-train").click()
    page.get_by_test_id("train-file").set_input_files(str(_reviews(tmp_path / "reviews.csv")))
    columns = page.get_by_test_id("train-columns")
    sync_api.expect(columns).to_contain_text("review")
    assert "stars" in columns.inner_text()
    page.get_by_test_id("train-model").fill(str(tiny_bert_dir))
    page.get_by_test_id("train-budget").fill("")
    page.get_by_test_id("train-strategy").select_option("")  # AutoTune
    page.get_by_test_id("train-epochs").fill("1")
    page.get_by_test_id("train-trials-count").fill("2")
    page.get_by_test_id("train-start").click()
    status = page.get_by_test_id("train-status")
    sync_api.expect(page.locator("#train-hint")).to_contain_text("tamellm train --data")  # the new job started
    sync_api.expect(status).to_have_attribute("data-status", re.compile("queued|running"))
    hint = page.locator("#train-hint").text_content()
    page.reload()  # the job lives on the server: the page finds it again and follows it
    page.locator("body[data-ready=true]").wait_for(state="attached")
    # The status the job had when the first trial row appeared: the table is pushed while it runs.
    page.evaluate("""() => {
        const seen = () => {
            if (window.trialSeenWhile || !document.querySelector('[data-testid=trial-row]')) return;
            window.trialSeenWhile = document.querySelector('[data-testid=train-status]').dataset.status;
        };
        new MutationObserver(seen).observe(document.getElementById('train-trials'), {subtree: true, childList: true});
        seen();
    }""")
    sync_api.expect(status).to_have_attribute("data-status", "done", timeout=200_000)
    assert page.evaluate("window.trialSeenWhile") == "running"
    rows = page.get_by_test_id("trial-row")
    sync_api.expect(rows).to_have_count(2)
    assert [r.get_attribute("data-state") for r in rows.all()] == ["complete", "complete"]
    result = page.get_by_test_id("train-result")
    assert "model" in page.get_by_test_id("train-model-dir").inner_text()
    assert "tamellm train --data" in hint and "--trials 2" in hint and "tamellm.tune(" in hint
    result.get_by_test_id("train-open-run").click()
    page.get_by_test_id("hpo-chart").locator("svg").wait_for()
    page.get_by_test_id("run-try-submit").click()
    sync_api.expect(page.get_by_test_id("run-try-result")).to_contain_text("Prediction:")
    assert page.get_by_test_id("run-try-result").locator("strong").inner_text() in {"good", "bad"}


def test_apps_faq_and_monitor(page, server):
    page.get_by_test_id("nav-apps").click()
    page.get_by_test_id("faq-question").fill("How do I reset my password?")
    page.get_by_test_id("faq-ask").click()
    reply = page.get_by_test_id("faq-reply")
    reply.wait_for()
    answers = page.get_by_test_id("faq-answer")
    assert answers.count() >= 1 and "[" in answers.first.inner_text()
    assert "faq ask" in page.locator("#faq-hint").text_content()
    events = [{"id": str(i), "timestamp": f"2026-01-05T09:{i:02d}:00Z", "text": f"Acme Corp {t}"}
              for i, t in enumerate(["is great", "is awful", "shares rise", "<b>bold</b> move"])]
    posted = httpx.post(f"{server['url']}/v1/monitor/fin/events", json={"events": events},
                        headers={"Authorization": f"Bearer {KEY}"}, timeout=60)
    assert posted.status_code == 200, posted.text
    page.get_by_test_id("monitor-refresh").click()
    sync_api.expect(page.get_by_test_id("monitor-entities")).to_contain_text("ACME")
    page.get_by_test_id("recommend-user").fill("u2")
    page.locator("#recommend-k").fill("3")
    page.get_by_test_id("recommend-submit").click()
    items = page.get_by_test_id("recommend-item")
    sync_api.expect(items).to_have_count(3)
    assert {i.locator("strong").inner_text() for i in items.all()} <= {f[0] for f in FILMS} - set(LIKES["u2"])
    assert "because you liked" in page.get_by_test_id("recommend-result").inner_text()  # the reasons, as text
    assert "tamellm recommend for REC_DIR --user u2 -k 3" in page.locator("#recommend-hint").text_content()


@pytest.mark.parametrize("width", [1280, 390])
def test_every_section_fits_the_width(browser, server, tmp_path_factory, width):
    context, page, watch = _open(browser, server, width=width)
    shots = tmp_path_factory.mktemp(f"screenshots-{width}")
    try:
        page.goto(server["url"] + "/")
        page.locator("body[data-ready=true]").wait_for(state="attached")
        for section in SECTIONS:
            page.get_by_test_id(f"nav-{section}").click()
            page.locator(f"#section-{section}").wait_for()
            page.wait_for_timeout(150)
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 1, f"{section} is {overflow}px wider than {width}px"
            page.screenshot(path=str(shots / f"{section}.png"), full_page=True)
        # Keyboard: Tab reaches the skip link, then the navigation, with a visible focus ring.
        page.goto(server["url"] + "/")
        page.keyboard.press("Tab")
        page.keyboard.press("Tab")
        focused = page.evaluate("[document.activeElement.dataset.testid, getComputedStyle(document.activeElement)"
                                ".outlineStyle]")
        assert focused == ["nav-playground", "solid"]
        watch.check()
    finally:
        context.close()
    print(f"screenshots at {shots}")


@pytest.mark.skipif(not AXE.is_file(), reason="axe-core is not vendored in tests/vendor")
@pytest.mark.parametrize("width", [1280, 390])
def test_no_accessibility_violation(browser, server, width):
    """axe-core finds nothing (no violation of any impact) on any section, with a result and an explanation shown."""
    # axe comes in as a script tag, which the page's CSP rightly refuses: this context bypasses the CSP.
    context, page, watch = _open(browser, server, width=width, bypass_csp=True)
    try:
        page.goto(server["url"] + "/")
        page.locator("body[data-ready=true]").wait_for(state="attached")
        page.get_by_test_id("classify-submit").click()
        page.get_by_test_id("classify-result-label").wait_for()
        page.get_by_test_id("classify-explain").click()
        page.get_by_test_id("explanation-word").first.wait_for()
        page.add_script_tag(content=AXE.read_text(encoding="utf-8"))
        found = {}
        for section in SECTIONS:
            page.get_by_test_id(f"nav-{section}").click()
            page.locator(f"#section-{section}").wait_for()
            found[section] = page.evaluate(
                "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
                ".map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 3)}))")
        assert {s: v for s, v in found.items() if v} == {}
    finally:
        context.close()
