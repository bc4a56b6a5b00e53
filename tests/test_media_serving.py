"""Files as inputs of the server's text routes, against a real uvicorn server on loopback.

Images are text rendered with Pillow and read back by the real RapidOCR; the PDF is written by
fpdf2 and read by pypdf. Answers are compared with the same models on the same text through the
Python API. OCR takes seconds on a shared machine, so only three images are read in all.
"""

from __future__ import annotations

import base64
import secrets

import httpx
import numpy as np
import pytest
from test_media import render_text, write_pdf
from test_serve_http import LiveServer

import tamellm
from tamellm import api

LINES = ["The film was a wonderful surprise."]
KEY = secrets.token_urlsafe(24)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("upload-files")
    return {"png": render_text(folder / "review.png", LINES),
            "pdf": write_pdf(folder / "letter.pdf", ["Alice wrote to Bob about the delivery."]),
            "blank": render_text(folder / "blank.png", [], size=(200, 80))}


@pytest.fixture(scope="module")
def live(tmp_path_factory, tiny_classifier_dir, tiny_ner_dir, tiny_sentence_dir):
    keys = tmp_path_factory.mktemp("keys") / "keys.txt"
    keys.write_text(KEY + "\n")
    app = tamellm.create_app([str(tiny_classifier_dir), str(tiny_ner_dir), str(tiny_sentence_dir)],
                             api_key_file=str(keys), max_body_bytes=300_000, max_input_chars=2000)
    with LiveServer(app) as server:
        yield server


@pytest.fixture(scope="module")
def client(live):
    with httpx.Client(base_url=live.url, headers={"Authorization": f"Bearer {KEY}"}, timeout=300) as c:
        yield c


def _b64(path) -> str:
    return base64.b64encode(path.read_bytes()).decode()


def test_classify_takes_an_uploaded_image_and_answers_the_text_it_read(client, files, tiny_classifier_dir):
    with open(files["png"], "rb") as handle:
        response = client.post("/v1/classify", files={"file": ("review.png", handle, "image/png")})
    assert response.status_code == 200, response.text
    (item,) = response.json()["data"]
    assert "wonderful surprise" in item["text"].lower()
    assert item["source"]["file"] == "review.png" and item["source"]["kind"] == "image"
    (segment,) = item["source"]["segments"]
    assert segment["source"] == "ocr" and len(segment["box"]) == 4
    # the label is the classifier's answer on exactly the text that was read
    expected = api.classify(item["text"], model=tiny_classifier_dir)
    assert item["label"] == expected.label
    assert item["score"] == pytest.approx(expected.score, abs=1e-5)
    # the same route still answers plain texts as before (no 'text' / 'source' added)
    plain = client.post("/v1/classify", json={"input": ["plain text"]})
    assert plain.status_code == 200 and "text" not in plain.json()["data"][0]


def test_ner_and_embeddings_take_base64_files(client, files, tiny_ner_dir, tiny_sentence_dir):
    # a PDF as a data: URL (its text layer: no OCR) on /v1/ner
    response = client.post("/v1/ner", json={"file": "data:application/pdf;base64," + _b64(files["pdf"])})
    assert response.status_code == 200, response.text
    (item,) = response.json()["data"]
    assert item["text"].startswith("Alice wrote to Bob")
    assert item["source"]["kind"] == "pdf" and item["source"]["segments"][0]["page"] == 1
    expected = api.ner(item["text"], model=tiny_ner_dir)
    assert [e["text"] for e in item["entities"]] == [e.text for e in expected.entities]
    # two files on /v1/embeddings, one named, one sniffed from its bytes; one vector per file, in order
    model = api.load(tiny_sentence_dir).name  # the other fields of the route pass through
    response = client.post("/v1/embeddings", json={"model": model, "files": [
        {"name": "letter.pdf", "data": _b64(files["pdf"])}, _b64(files["pdf"])]})
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert [d["source"]["kind"] for d in data] == ["pdf", "pdf"]
    assert data[1]["source"]["file"] == "file-1"
    vectors = api.embed([d["text"] for d in data], model=tiny_sentence_dir).vectors
    np.testing.assert_allclose(np.array([d["embedding"] for d in data]), vectors, atol=1e-4)


def test_bad_files_get_clear_4xx(live, client, files):
    # no key: refused before anything is read
    anonymous = httpx.post(live.url + "/v1/classify", files={"file": ("a.png", files["png"].read_bytes())})
    assert anonymous.status_code == 401
    # not a media file
    response = client.post("/v1/classify", files={"file": ("notes.txt", b"just some words", "text/plain")})
    assert response.status_code == 415 and "accepted: images" in response.json()["error"]["message"]
    # bigger than the upload limit (--max-upload-mb): 413 naming the limit
    response = client.post("/v1/classify", files={"file": ("big.png", b"\x89PNG" + b"0" * 400_000)})
    assert response.status_code == 413
    # corrupt image
    response = client.post("/v1/classify", json={"file": base64.b64encode(b"\x89PNG\r\n\x1a\nbroken").decode()})
    assert response.status_code == 400 and response.json()["error"]["param"] == "file"
    # an image with no text in it
    response = client.post("/v1/classify", json={"files": [{"name": "blank.png", "data": _b64(files["blank"])}]})
    assert response.status_code == 422 and "No text was found in 'blank.png'" in response.json()["error"]["message"]
    # not base64; both input and file
    response = client.post("/v1/ner", json={"file": "%%%"})
    assert response.status_code == 422 and response.json()["error"]["param"] == "file"
    response = client.post("/v1/ner", json={"input": "x", "file": _b64(files["pdf"])})
    assert response.status_code == 422
