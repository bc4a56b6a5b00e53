"""The playground reads a file: an image chosen in the Classify card is read by the server (real RapidOCR)
and classified; the page shows the read text and the label. Debian's Chromium through Playwright
against a real uvicorn server on loopback (one small server, one browser, one test: browser tests are slow).
"""

from __future__ import annotations

import pytest
from test_media import render_text
from test_serve_http import LiveServer
from test_ui_browser import CHROMIUM, CHROMIUM_ARGS, _open, sync_api

import tamellm


@pytest.fixture(scope="module")
def server(tmp_path_factory, tiny_classifier_dir):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TAMELLM_RUNS_DIR", str(tmp_path_factory.mktemp("ui-media-runs")))
        app = tamellm.create_app([str(tiny_classifier_dir)], max_body_bytes=2_000_000)
    with LiveServer(app) as live:
        yield {"url": live.url, "port": int(live.url.rsplit(":", 1)[1])}


def test_classify_card_reads_an_image_and_shows_text_and_label(server, tmp_path, tiny_classifier_dir):
    image = render_text(tmp_path / "review.png", ["The film was a wonderful surprise."])
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context, page, watch = _open(browser, server, key=None)
        try:
            page.goto(server["url"] + "/")
            page.locator("body[data-ready=true]").wait_for(state="attached")
            page.get_by_test_id("classify-file").set_input_files(str(image))
            sync_api.expect(page.get_by_test_id("classify-read")).to_contain_text("review.png will be read")
            page.get_by_test_id("classify-submit").click()
            read = page.get_by_test_id("classify-read-text")
            sync_api.expect(read).to_contain_text("wonderful surprise", timeout=120_000)
            label = page.get_by_test_id("classify-result-label").inner_text()
            assert label in {"positive", "negative"}
            # the read text replaced the text box (Why? explains exactly it) and the hint shows --input
            assert page.get_by_test_id("classify-text").input_value() == read.inner_text()
            assert "tamellm classify --input review.png" in page.locator("#classify-hint").text_content()
            # what the page shows is the classifier's answer on that text
            assert label == tamellm.classify(read.inner_text(), model=tiny_classifier_dir).label
            watch.check()
        finally:
            context.close()
            browser.close()

