"""Images, PDFs and audio as text: real OCR (RapidOCR), real pypdf, real Whisper tiny.en, real files.

Inputs are made here: text rendered into a PNG with Pillow, PDFs written with fpdf2, speech
spoken by espeak-ng. OCR and Whisper are slow on a shared machine, so each runs on a
module-scoped fixture and a few tests read it.
"""

from __future__ import annotations

import json
import shutil
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest

from tamellm.cli.main import run
from tamellm.errors import InputError
from tamellm.media import MediaLimits, is_media, media_kind, read_media

TAMELLM = Path(sys.executable).parent / "tamellm"
LINES = ["The film was a wonderful surprise.", "Every actor was superb."]
SPOKEN = "The movie was wonderful and I loved it."


def _font(size: int):
    from PIL import ImageFont

    for path in ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
                 "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf"):
        if Path(path).is_file():
            return ImageFont.truetype(path, size)
    return ImageFont.load_default(size=size)  # Pillow's own scalable font


def render_text(path: Path, lines: list[str], size: tuple[int, int] = (900, 140)) -> Path:
    """A white PNG with ``lines`` in black, one per 50 pixels."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(image)
    for i, line in enumerate(lines):
        draw.text((20, 20 + 50 * i), line, fill="black", font=_font(28))
    image.save(path)
    return path


def write_pdf(path: Path, pages: list[str | Path | None]) -> Path:
    """A PDF with one page per item: a text line, a picture (path) or nothing (None)."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("helvetica", size=14)
    for item in pages:
        pdf.add_page()
        if isinstance(item, Path):
            pdf.image(str(item), w=170)
        elif item:
            pdf.cell(text=item)
    pdf.output(str(path))
    return path


def speak(path: Path, text: str) -> Path:
    """``text`` spoken by espeak-ng into a WAV file (skips when espeak-ng is missing)."""
    tts = shutil.which("espeak-ng") or shutil.which("espeak")
    if tts is None:
        pytest.skip("espeak-ng is missing (make test installs it with apt)")
    subprocess.run([tts, "-w", str(path), text], check=True, capture_output=True, timeout=60)
    return path


def silent_flac(path: Path, seconds: int, rate: int = 1000) -> Path:
    """A FLAC file of ``seconds`` of silence (a low sample rate keeps three hours small and quick to write)."""
    import av

    with av.open(str(path), "w") as out:
        stream = out.add_stream("flac", rate=rate, layout="mono")
        block = np.zeros((1, rate * 60), dtype=np.int16)
        for _ in range(seconds // 60):
            frame = av.AudioFrame.from_ndarray(block, format="s16", layout="mono")
            frame.sample_rate = rate
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return path


def png_header_only(path: Path, width: int, height: int) -> Path:
    """A tiny PNG whose header claims ``width`` x ``height`` pixels: a decompression bomb's shape."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64))
                     + chunk(b"IEND", b""))
    return path


@pytest.fixture(scope="module")
def media_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("media")


@pytest.fixture(scope="module")
def image_path(media_dir) -> Path:
    return render_text(media_dir / "review.png", LINES)


@pytest.fixture(scope="module")
def image_read(image_path):
    return read_media(image_path)


@pytest.fixture(scope="module")
def speech_path(media_dir) -> Path:
    return speak(media_dir / "review.wav", SPOKEN)


@pytest.fixture(scope="module")
def text_pdf(media_dir) -> Path:
    return write_pdf(media_dir / "letter.pdf", ["Alice Smith flew to Paris in March.", "The hotel was dreadful."])


def test_image_text_is_read_line_by_line_with_boxes(image_read, image_path):
    assert image_read.kind == "image" and (image_read.info["width"], image_read.info["height"]) == (900, 140)
    assert len(image_read.segments) == 2
    first, second = image_read.segments
    assert "wonderful surprise" in first.text.lower() and "superb" in second.text.lower()
    assert image_read.text == f"{first.text} {second.text}"
    for segment in image_read.segments:
        x0, y0, x1, y1 = segment.box
        assert 0 <= x0 < x1 <= 900 and 0 <= y0 < y1 <= 140 and segment.source == "ocr" and segment.score > 0.8
    assert first.box[3] <= second.box[1] + 5  # the first line's box lies above the second's
    assert first.box[1] < 45 and 55 < second.box[3] < 120  # where the lines were drawn (20 and 70 px from the top)


def test_pdf_text_layer_gives_text_per_page(text_pdf):
    read = read_media(text_pdf)
    assert read.kind == "pdf" and read.info == {"pages": 2, "ocr_pages": 0}
    assert [(s.page, s.source, s.text) for s in read.segments] == [
        (1, "pdf-text", "Alice Smith flew to Paris in March."), (2, "pdf-text", "The hotel was dreadful.")]


def test_a_scanned_page_is_read_by_ocr_with_its_page_number(media_dir, image_path):
    pdf = write_pdf(media_dir / "scan.pdf", ["Cover page", image_path])
    read = read_media(pdf)
    assert read.info == {"pages": 2, "ocr_pages": 1}
    assert read.segments[0].page == 1 and read.segments[0].source == "pdf-text"
    scanned = [s for s in read.segments if s.page == 2]
    assert scanned and all(s.source == "ocr" and s.box for s in scanned)
    assert "wonderful" in " ".join(s.text for s in scanned).lower()


def test_speech_is_transcribed_with_timestamps_and_long_audio_in_chunks(speech_path):
    whole = read_media(speech_path)
    assert whole.kind == "audio" and whole.info["chunks"] == 1 and 1.0 < whole.info["duration"] < 10
    assert {"movie", "loved"} <= set(whole.text.lower().replace(".", "").replace(",", "").split())
    assert whole.segments[0].start >= 0 and whole.segments[-1].end <= whole.info["duration"] + 0.5

    calls: list[tuple[int, int]] = []
    chunk = whole.info["duration"] / 2 + 0.01  # two chunks
    chunked = read_media(speech_path, limits=MediaLimits(chunk_seconds=chunk),
                         on_chunk=lambda done, total: calls.append((done, total)))
    assert calls == [(1, 2), (2, 2)] and chunked.info["chunks"] == 2
    assert any(s.start >= chunk - 0.01 for s in chunked.segments)  # the second chunk's times are offset
    assert [s.start for s in chunked.segments] == sorted(s.start for s in chunked.segments)


def test_bad_inputs_get_clear_errors(tmp_path):
    corrupt = tmp_path / "broken.png"
    corrupt.write_bytes(b"\x89PNG\r\n\x1a\nthis is not an image")
    with pytest.raises(InputError, match="not a readable image"):
        read_media(corrupt)
    with pytest.raises(InputError, match="20000 x 20000 pixels .*decompression bomb"):
        read_media(png_header_only(tmp_path / "bomb.png", 20_000, 20_000))
    with pytest.raises(InputError, match="no text layer and no pictures"):
        read_media(write_pdf(tmp_path / "blank.pdf", [None, None]))
    not_pdf = tmp_path / "fake.pdf"
    not_pdf.write_text("hello", encoding="utf-8")
    with pytest.raises(InputError, match="not a readable PDF"):
        read_media(not_pdf)
    docx = tmp_path / "notes.docx"
    docx.write_bytes(b"PK\x03\x04")
    with pytest.raises(InputError, match="'.docx' files are not supported") as caught:
        read_media(docx)
    assert ".png" in caught.value.hint and ".mp3" in caught.value.hint
    with pytest.raises(InputError, match="not found"):
        read_media(tmp_path / "missing.wav")
    assert media_kind("a.JPG") == "image" and media_kind("b.flac") == "audio" and not is_media("c.csv")


def test_three_hours_of_audio_is_checked_before_decoding(tmp_path):
    from tamellm.media.audio import audio_duration

    long = silent_flac(tmp_path / "meeting.flac", 3 * 3600)
    assert audio_duration(long) == pytest.approx(10_800, abs=1)
    with pytest.raises(InputError, match=r"lasts 3:00:00, more than the limit of 2:00:00") as caught:
        read_media(long, limits=MediaLimits(max_audio_seconds=7200))
    assert "TAMELLM_MAX_AUDIO_SECONDS" in caught.value.hint
    # Under the default limit (4 h) it would be read in 36 chunks of 5 minutes, one in memory at a time.
    assert MediaLimits().max_audio_seconds >= 3 * 3600 and 10_800 / MediaLimits().chunk_seconds == 36


def test_classify_input_image_pdf_and_audio_from_the_command_line(image_path, text_pdf, speech_path):
    """The interface users and checks run: one result per file, each with label and the text read."""
    proc = subprocess.run([str(TAMELLM), "classify", "--input", str(image_path), "--input", str(text_pdf),
                           "--input", str(speech_path), "--labels", "positive,negative", "--json"],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(proc.stdout)
    assert [r["source"]["kind"] for r in rows] == ["image", "pdf", "audio"]
    assert [r["label"] for r in rows] == ["positive", "negative", "positive"]  # minilm zero-shot, real model
    assert "wonderful surprise" in rows[0]["text"].lower() and rows[0]["source"]["segments"][0]["box"]
    assert rows[1]["text"] == "Alice Smith flew to Paris in March.\nThe hotel was dreadful."
    assert "loved" in rows[2]["text"].lower() and "start" in rows[2]["source"]["segments"][0]
    bad = subprocess.run([str(TAMELLM), "classify", "--input", str(image_path.with_suffix(".heic")),
                          "--labels", "a,b"], capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and bad.stderr.startswith("error: ") and bad.stderr.count("\n") <= 2


def _invoke(capsys, *args: str) -> tuple[int, str, str]:
    code = 0
    try:
        run(list(args))
    except SystemExit as exc:
        code = exc.code or 0
    out, err = capsys.readouterr()
    return code, out, err


def test_ner_embed_explain_summarize_take_input_files(capsys, text_pdf, tiny_sentence_dir, tiny_classifier_dir,
                                                      tiny_gpt2_dir):
    text = "Alice Smith flew to Paris in March.\nThe hotel was dreadful."
    code, out, err = _invoke(capsys, "ner", "--input", str(text_pdf), "--json")
    assert code == 0, err
    [row] = json.loads(out)
    assert row["text"] == text and row["source"]["kind"] == "pdf"
    found = {(e["text"], e["label"]) for e in row["entities"]}
    assert ("Alice Smith", "PERSON") in found and ("Paris", "GPE") in found
    assert all(text[e["start"]:e["end"]] == e["text"] for e in row["entities"])  # offsets index the read text

    code, out, err = _invoke(capsys, "embed", "--input", str(text_pdf), "--model", str(tiny_sentence_dir), "--json")
    assert code == 0, err
    [row] = json.loads(out)
    assert row["text"] == text and abs(np.linalg.norm(row["embedding"]) - 1) < 1e-4
    assert [s["page"] for s in row["source"]["segments"]] == [1, 2]

    code, out, err = _invoke(capsys, "explain", str(tiny_classifier_dir), "--input", str(text_pdf), "--json")
    assert code == 0, err
    [row] = json.loads(out)
    assert row["text"] == text and row["source"]["file"] == str(text_pdf)
    assert {"Paris", "dreadful"} <= {w["word"] for w in row["words"]}

    code, out, err = _invoke(capsys, "summarize", "--input", str(text_pdf), "--model", str(tiny_gpt2_dir),
                             "--max-words", "5", "--json")
    assert code == 0, err
    [row] = json.loads(out)
    assert row["text"] == text and isinstance(row["summary"], str) and row["source"]["pages"] == 2
