"""How fast the web page is on loopback, with real models loaded; and the README's screenshots.

Starts ``tamellm serve minilm-l6 spacy-en-sm`` (plus the chat model with ``--chat``) on a free
port with a runs folder holding one small run, opens the page in Debian's Chromium
(Playwright) and measures, each as the median of ``--repeats`` runs:

- page load: first paint, first contentful paint, DOMContentLoaded and load (Navigation Timing);
- click Classify -> the label on screen (zero-shot, minilm-l6);
- click Why? -> the coloured words on screen (the default method);
- click Faithfulness -> the ERASER table of that method on this text (every 2nd repeat: slow);
- click Find entities -> the highlighted spans (spaCy).

The same classification sent straight to /v1/classify (httpx) shows what the page adds.
Writes results/ui_timing.json and .md (with the machine's load average: timings on a shared
2-core machine move with it), and with ``--screenshots`` one PNG per page into
docs/screenshots/. Run: ``python bench/ui_timing.py --screenshots``.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from common import ROOT, write_results

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SCREENSHOTS = ROOT / "docs" / "screenshots"
TEXT = "The battery died after two days and support never answered."


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _sample_run(runs: Path) -> None:
    """One small run in ``runs`` (head-only on 400 tweets shipped with tamellm), for the Runs page."""
    import tamellm

    data = tamellm.sample_data(runs.parent / "tweets.csv", rows=400)
    os.environ.setdefault("TAMELLM_TRACKING", "0")
    tamellm.train(data, model="minilm-l6", run_dir=runs / "tweets-head-only", strategy="head-only", epochs=4,
                  eval_steps=5, max_length=48)


def _sample_faq(folder: Path) -> Path:
    """A three-entry FAQ indexed with minilm-l6, for the Apps page."""
    from tamellm.apps.faq import build_faq

    csv = folder / "faq.csv"
    csv.write_text("question,answer\nHow do I reset my password?,Use the Forgot password link on the login page.\n"
                   "Where is my card?,Cards arrive within five working days.\n"
                   "How do I close my account?,Write to support and we close it within a day.\n", encoding="utf-8")
    build_faq(csv, folder / "bank")
    return folder / "bank"


def _serve(models: list[str], runs: Path, log: Path, extra: list[str]) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    env = {**os.environ, "TAMELLM_RUNS_DIR": str(runs), "TAMELLM_API_KEYS": ""}
    with log.open("w") as handle:
        process = subprocess.Popen([sys.executable, "-m", "tamellm.cli.main", "serve", *models, "--port", str(port),
                                    *extra], stdout=handle, stderr=handle, env=env)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server exited: {log.read_text()[-2000:]}")
        try:
            if httpx.get(url + "/readyz", timeout=2).status_code == 200:
                return process, url
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    process.kill()
    raise SystemExit("server not ready in 300 s")


def _click_to(page, button: str, result: str, clear: str) -> float:
    """Seconds from clicking ``button`` to ``result`` being visible (``clear`` emptied first)."""
    page.evaluate(f"document.querySelector('{clear}').replaceChildren()")
    start = time.perf_counter()
    page.click(button)
    page.wait_for_selector(result, state="visible", timeout=120_000)
    return time.perf_counter() - start


def _load_timing(page) -> dict[str, float]:
    return page.evaluate("""() => {
        const nav = performance.getEntriesByType('navigation')[0];
        const paint = Object.fromEntries(performance.getEntriesByType('paint').map(p => [p.name, p.startTime]));
        return {first_paint_ms: paint['first-paint'], first_contentful_paint_ms: paint['first-contentful-paint'],
                dom_content_loaded_ms: nav.domContentLoadedEventEnd, load_ms: nav.loadEventEnd,
                transfer_kb: performance.getEntriesByType('resource')
                    .reduce((a, r) => a + r.transferSize, nav.transferSize) / 1024};
    }""")


def _spread(values: list[float]) -> dict[str, float]:
    """min / median / max, rounded to 0.1."""
    return {"min": round(min(values), 1), "median": round(statistics.median(values), 1), "max": round(max(values), 1)}


def _median(rows: list[dict], key: str) -> dict[str, float]:
    return _spread([r[key] for r in rows])


def _ms(seconds: list[float]) -> dict[str, float]:
    return _spread([s * 1000 for s in seconds])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--chat", action="store_true", help="also serve smollm2-135m-instruct (slow first load)")
    parser.add_argument("--screenshots", action="store_true", help=f"write PNGs into {SCREENSHOTS}")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    models = ["minilm-l6", "spacy-en-sm"] + (["smollm2-135m-instruct"] if args.chat else [])
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="tamellm-ui-bench-") as tmp:
        runs = Path(tmp) / "runs"
        _sample_run(runs)
        faq = _sample_faq(Path(tmp))
        process, url = _serve(models, runs, Path(tmp) / "server.log", ["--faq", f"bank={faq}"])
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
                page = browser.new_page(viewport={"width": 1280, "height": 900})
                loads, classify, explain, ner, api, faithful = [], [], [], [], [], []
                body = {"input": TEXT, "labels": ["praise", "complaint", "question"], "model": "minilm-l6"}
                http = httpx.Client(base_url=url, timeout=120)  # keep-alive, as the browser
                for i in range(args.repeats + 1):  # the first load warms the server's file cache: not counted
                    page.goto(url + "/", wait_until="load")
                    page.wait_for_selector("body[data-ready=true]", state="attached")
                    if i:
                        loads.append(_load_timing(page))
                page.fill("[data-testid=classify-text]", TEXT)
                page.fill("[data-testid=classify-labels]", "praise, complaint, question")
                for i in range(args.repeats + 1):  # the first call of each kind warms the model up
                    c = _click_to(page, "[data-testid=classify-submit]", "[data-testid=classify-result-label]",
                                  "#classify-result")
                    e = _click_to(page, "[data-testid=classify-explain]", "[data-testid=explanation-word]",
                                  "#classify-explanation")
                    if i % 2 == 0:
                        f = _click_to(page, "[data-testid=explain-faithfulness]", "[data-testid=faithfulness-table]",
                                      "#classify-faithfulness-result")
                        if i:
                            faithful.append(f)
                    n = _click_to(page, "[data-testid=ner-submit]", "[data-testid=ner-entity]", "#ner-result")
                    start = time.perf_counter()  # the same classification straight to the API: the page's share
                    http.post("/v1/classify", json=body).raise_for_status()
                    a = time.perf_counter() - start
                    if i:
                        api.append(a)
                        classify.append(c)
                        explain.append(e)
                        ner.append(n)
                if args.screenshots:
                    _screenshots(browser, url)
                browser.close()
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(60)
    table = [
        {"measure": "first paint (ms)", **_median(loads, "first_paint_ms")},
        {"measure": "first contentful paint (ms)", **_median(loads, "first_contentful_paint_ms")},
        {"measure": "DOMContentLoaded (ms)", **_median(loads, "dom_content_loaded_ms")},
        {"measure": "load (ms)", **_median(loads, "load_ms")},
        {"measure": "transferred per load, warm browser cache (KB)", **_median(loads, "transfer_kb")},
        {"measure": "click Classify -> label, zero-shot minilm-l6 (ms)", **_ms(classify)},
        {"measure": "the same classification by httpx, no page (ms)", **_ms(api)},
        {"measure": "click Why? -> coloured words, default method (ms)", **_ms(explain)},
        {"measure": "click Find entities -> spans, spaCy (ms)", **_ms(ner)},
        {"measure": "click Faithfulness -> ERASER table, method + random (ms)", **_ms(faithful)},
    ]
    data = {"models": models, "repeats": args.repeats, "loads": loads, "classify_s": classify, "explain_s": explain,
            "ner_s": ner, "api_classify_s": api, "faithfulness_s": faithful, "load_average": os.getloadavg(),
            "load_average_before": load_before, "table": table}
    md = write_results("ui_timing", data, table)
    with md.open("a") as out:  # timings on a shared machine move with its load
        out.write(f"\nLoad average (1, 5, 15 min): {', '.join(f'{v:.2f}' for v in load_before)} before, "
                  f"{', '.join(f'{v:.2f}' for v in data['load_average'])} after; {args.repeats} repeats "
                  "(Faithfulness every second one).\n")
    print(md.read_text())


def _screenshots(browser, url: str) -> None:
    """One PNG per page at 1280 px, and the playground at 390 px."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1280, "height": 860})
    page.goto(url + "/")
    page.wait_for_selector("body[data-ready=true]", state="attached")
    page.fill("[data-testid=classify-text]", TEXT)
    page.fill("[data-testid=classify-labels]", "praise, complaint, question")
    page.click("[data-testid=classify-submit]")
    page.wait_for_selector("[data-testid=classify-result-label]")
    page.click("[data-testid=classify-explain]")
    page.wait_for_selector("[data-testid=explanation-word]")
    page.click("[data-testid=explain-faithfulness]")
    page.wait_for_selector("[data-testid=faithfulness-table]")
    page.click("[data-testid=ner-submit]")
    page.wait_for_selector("[data-testid=ner-entity]")
    page.click("[data-testid=similarity-submit]")
    page.wait_for_selector("[data-testid=similarity-item]")
    page.screenshot(path=str(SCREENSHOTS / "playground.png"), full_page=True)
    page.click("[data-testid=nav-runs]")
    page.click("[data-testid=runs-row] button")
    page.wait_for_selector("[data-testid=run-curves] svg")
    page.screenshot(path=str(SCREENSHOTS / "runs.png"), full_page=True)
    page.click("[data-testid=nav-train]")
    page.screenshot(path=str(SCREENSHOTS / "train.png"), full_page=True)
    page.click("[data-testid=nav-models]")
    page.wait_for_selector("[data-testid=models-catalog-row]")
    page.screenshot(path=str(SCREENSHOTS / "models.png"), full_page=True)
    page.click("[data-testid=nav-apps]")
    page.click("[data-testid=faq-ask]")
    page.wait_for_selector("[data-testid=faq-reply]")
    page.screenshot(path=str(SCREENSHOTS / "apps.png"), full_page=True)
    page.close()
    narrow = browser.new_page(viewport={"width": 390, "height": 844})
    narrow.goto(url + "/")
    narrow.wait_for_selector("body[data-ready=true]", state="attached")
    narrow.screenshot(path=str(SCREENSHOTS / "playground-390.png"))
    narrow.close()
    _shrink(SCREENSHOTS.glob("*.png"))


def _shrink(paths) -> None:
    """256-colour PNGs: the page is flat colours, so they look the same at a third of the bytes."""
    from PIL import Image

    for path in paths:
        with Image.open(path) as image:
            small = image.convert("RGB").quantize(256)
        small.save(path, optimize=True)


if __name__ == "__main__":
    main()
