"""Images, documents and speech as inputs; image classification; fusion. One command, bounded.

Run: .venv/bin/python bench/multimodal.py [--ocr 40] [--speech 20] [--digits-train 30] [--fusion 40]
An arm given 0 is skipped and its rows are carried over from the previous results file of the same
--name (marked in ``kept_from_previous``): ``--ocr 0 --speech 0`` re-measures images and fusion only.

1. OCR -> classify: SST-2 dev sentences rendered as PNG (Pillow, DejaVu Sans 22 px), read back by
   RapidOCR, classified zero-shot (minilm-l6); the same sentences as text in the same run.
2. Speech -> classify: the same sentences spoken by espeak-ng, transcribed by Whisper tiny.en.
3. Image classification: scikit-learn's ``load_digits`` (1,797 8x8 hand-written digits, UCI optical
   recognition set; it ships inside the scikit-learn wheel): EfficientNet-Lite0 head-only; accuracy and
   images/s fp32 vs the int8 ONNX copy (min / median / max of 3 timed passes, interleaved), and how
   often the int8 copy gives the fp32 model's label.
4. Fusion: pairs of a digit image (0 or 1) and an SST-2 sentence (negative or positive); the label is
   both (4 classes): fusion (concat, gated) vs the same head on the image or the text alone.
Writes bench/results/multimodal.json and .md. Timings on a shared machine: read them with the load average.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
from common import RESULTS, read_sst2, write_results

import tamellm

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def render(sentence: str, path: Path) -> Path:
    """One sentence on a white image, wrapped at ~60 characters a line."""
    import textwrap

    from PIL import Image, ImageDraw, ImageFont

    lines = textwrap.wrap(sentence, 60) or [sentence]
    font = ImageFont.truetype(FONT, 22) if Path(FONT).is_file() else ImageFont.load_default(size=22)
    image = Image.new("RGB", (760, 30 + 32 * len(lines)), "white")
    draw = ImageDraw.Draw(image)
    for i, line in enumerate(lines):
        draw.text((15, 15 + 32 * i), line, fill="black", font=font)
    image.save(path)
    return path


def words(text: str) -> list[str]:
    return "".join(c.lower() if c.isalnum() else " " for c in text).split()


def word_error_rate(reference: str, hypothesis: str) -> float:
    """Word-level Levenshtein distance / reference words (after lower-casing and dropping punctuation)."""
    ref, hyp = words(reference), words(hypothesis)
    row = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        prev, row[0] = row[0], i
        for j, h in enumerate(hyp, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (r != h))
    return row[len(hyp)] / max(1, len(ref))


def read_and_classify(kind: str, sentences: list[str], gold: list[str], folder: Path) -> dict:
    """Make the files, read them (timed), classify what was read and the original texts."""
    names = ["negative", "positive"]
    paths = []
    for i, sentence in enumerate(sentences):
        if kind == "image":
            paths.append(render(sentence, folder / f"s{i}.png"))
        else:
            path = folder / f"s{i}.wav"
            subprocess.run(["espeak-ng", "-w", str(path), sentence], check=True, capture_output=True)
            paths.append(path)
    start = time.perf_counter()
    read = [tamellm.read_file(p).text for p in paths]
    read_seconds = time.perf_counter() - start
    from_files = tamellm.classify(read, labels=names)
    from_text = tamellm.classify(sentences, labels=names)
    return {
        "input": f"{kind} ({'RapidOCR' if kind == 'image' else 'Whisper tiny.en'})", "sentences": len(sentences),
        "accuracy_from_file": round(sum(p.label == g for p, g in zip(from_files, gold, strict=True)) / len(gold), 4),
        "accuracy_from_text": round(sum(p.label == g for p, g in zip(from_text, gold, strict=True)) / len(gold), 4),
        "same_label": round(sum(a.label == b.label for a, b in zip(from_files, from_text, strict=True)) / len(gold), 4),
        "word_error_rate": round(float(np.mean([word_error_rate(s, r) for s, r in zip(sentences, read,
                                                                                     strict=True)])), 4),
        "seconds_per_file": round(read_seconds / len(paths), 3), "load_average": load_average()}


def digits_folder(root: Path, per_class_train: int, per_class_test: int, classes: list[int]) -> tuple[Path, Path]:
    from PIL import Image
    from sklearn.datasets import load_digits

    digits = load_digits()
    for split in ("train", "test"):
        for c in classes:
            (root / split / str(c)).mkdir(parents=True)
    for c in classes:
        index = np.where(digits.target == c)[0]
        chosen = {"train": index[:per_class_train], "test": index[per_class_train:per_class_train + per_class_test]}
        for split, rows in chosen.items():
            for i in rows:
                pixels = (digits.images[i] * 16).clip(0, 255).astype(np.uint8)  # 0..16 -> 0..255
                Image.fromarray(255 - pixels).resize((64, 64), Image.NEAREST).save(root / split / str(c) / f"{i}.png")
    return root / "train", root / "test"


def images_per_second(model, paths: list[str], repeats: int = 3) -> list[float]:
    rates = []
    for _ in range(repeats):
        start = time.perf_counter()
        model.predict(paths, batch_size=32)
        rates.append(len(paths) / (time.perf_counter() - start))
    return rates


def image_benchmark(root: Path, per_class_train: int, per_class_test: int) -> list[dict]:
    train, test = digits_folder(root / "digits", per_class_train, per_class_test, list(range(10)))
    start = time.perf_counter()
    run = tamellm.train(train, task="image-classify", strategy="head-only", epochs=3, seed=0,
                        run_dir=root / "digits-run", config={"data": {"test": str(test), "val_size": 0.15}})
    train_seconds = time.perf_counter() - start
    int8 = tamellm.compress_image_model(run.model_dir, root / "digits-int8", sorted(train.rglob("*.png")))
    tests = [str(p) for p in sorted(test.rglob("*.png"))]
    fp32_model, int8_model = tamellm.load(run.model_dir), tamellm.load(int8)
    fp32_labels = [r.label for r in fp32_model.predict(tests, batch_size=32)]
    int8_labels = [r.label for r in int8_model.predict(tests, batch_size=32)]
    agreement = sum(a == b for a, b in zip(fp32_labels, int8_labels, strict=True)) / len(tests)
    rates = {"fp32": [], "int8": []}
    for _ in range(3):  # interleaved, so that the machine's load hits both alike
        rates["fp32"] += images_per_second(fp32_model, tests, 1)
        rates["int8"] += images_per_second(int8_model, tests, 1)
    rows = []
    for name, folder in (("fp32", run.model_dir), ("int8 (ONNX static QDQ)", int8)):
        key = "fp32" if name == "fp32" else "int8"
        metrics = tamellm.evaluate(folder, test)
        r = sorted(rates[key])
        rows.append({"model": f"EfficientNet-Lite0 head-only, {name}", "train_images": per_class_train * 10,
                     "test_images": len(tests), "accuracy": round(metrics["accuracy"], 4),
                     "images_per_s_min_med_max": f"{r[0]:.1f} / {r[1]:.1f} / {r[2]:.1f}",
                     "ratio_to_fp32": round(float(np.median(rates[key]) / np.median(rates["fp32"])), 2),
                     "same_label_as_fp32": 1.0 if key == "fp32" else round(agreement, 4),
                     "train_seconds": round(train_seconds, 1) if key == "fp32" else "",
                     "load_average": load_average()})
    return rows


def fusion_benchmark(root: Path, per_class: int) -> list[dict]:
    import pandas as pd

    from tamellm.training.resources import TrainResources

    texts, ints = read_sst2("dev")
    by_label = {0: [t for t, y in zip(texts, ints, strict=True) if y == 0],
                1: [t for t, y in zip(texts, ints, strict=True) if y == 1]}
    train_digits, test_digits = digits_folder(root / "fusion-digits", per_class, per_class // 2, [0, 1])
    tables = {}
    for split, folder, offset in (("train", train_digits, 0), ("test", test_digits, per_class)):
        rows = []
        for digit in (0, 1):
            images = sorted((folder / str(digit)).iterdir())
            for sentiment in (0, 1):
                for k, image in enumerate(images):
                    sentence = by_label[sentiment][(offset + digit * 3 * per_class + k) % len(by_label[sentiment])]
                    rows.append({"image": str(image), "text": sentence,
                                 "label": f"{digit}-{'positive' if sentiment else 'negative'}"})
        tables[split] = root / f"fusion-{split}.csv"
        pd.DataFrame(rows).to_csv(tables[split], index=False)
    shared = TrainResources(shared=True)
    out = []
    for mode, modalities in (("concat", "image"), ("concat", "text"), ("concat", "both"), ("gated", "both")):
        run = tamellm.train_fusion(tables["train"], mode=mode, modalities=modalities, test=tables["test"], seed=0,
                                   run_dir=root / f"fusion-{mode}-{modalities}", resources=shared)
        out.append({"head": mode, "modalities": modalities, "train_pairs": per_class * 4,
                    "test_pairs": (per_class // 2) * 4, "accuracy": round(run.metrics["test"]["accuracy"], 4),
                    "macro_f1": round(run.metrics["test"]["macro_f1"], 4), "load_average": load_average()})
    return out


def carry_skipped_arms(results: dict, name: str) -> None:
    """Rows of the arms this run skipped (0) from the previous results/NAME.json, marked with their run's date."""
    previous_file = RESULTS / f"{name}.json"
    if not previous_file.is_file():
        return
    previous = json.loads(previous_file.read_text())
    kept = dict(previous.get("kept_from_previous", {}))
    for arm in ("read_then_classify", "image_classification", "fusion"):
        if not results.get(arm) and previous.get(arm):
            results[arm] = previous[arm]
            kept.setdefault(arm, {"measured": previous["machine"]["date"],
                                  "command": previous["sources"]["command"]})
        else:
            kept.pop(arm, None)
    if kept:
        results["kept_from_previous"] = kept


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ocr", type=int, default=40, help="SST-2 dev sentences rendered and OCR'd")
    parser.add_argument("--speech", type=int, default=20, help="SST-2 dev sentences spoken and transcribed")
    parser.add_argument("--digits-train", type=int, default=30, help="training digits per class (10 classes)")
    parser.add_argument("--digits-test", type=int, default=20, help="test digits per class")
    parser.add_argument("--fusion", type=int, default=40, help="training images per digit class (0, 1) for fusion")
    parser.add_argument("--name", default="multimodal", help="results file name (a partial run keeps the full one)")
    args = parser.parse_args()
    os.environ.setdefault("TAMELLM_TRACKING", "0")
    os.environ.setdefault("TAMELLM_PROGRESS", "0")
    texts, ints = read_sst2("dev")
    gold = ["positive" if y else "negative" for y in ints]
    tamellm.classify("warm up", labels=["a", "b"])
    root = Path(tempfile.mkdtemp(prefix="tamellm-multimodal-"))
    results: dict = {"load_average_start": load_average()}
    try:
        reading = []
        if args.ocr:
            (root / "ocr").mkdir()
            reading.append(read_and_classify("image", texts[:args.ocr], gold[:args.ocr], root / "ocr"))
            print(reading[-1], flush=True)
        if args.speech and shutil.which("espeak-ng"):
            (root / "speech").mkdir()
            reading.append(read_and_classify("audio", texts[:args.speech], gold[:args.speech], root / "speech"))
            print(reading[-1], flush=True)
        results["read_then_classify"] = reading
        # 0 skips an arm (--ocr 0 --speech 0 --fusion 0: the image arm alone)
        results["image_classification"] = (image_benchmark(root, args.digits_train, args.digits_test)
                                           if args.digits_train else [])
        print(results["image_classification"], flush=True)
        results["fusion"] = fusion_benchmark(root, args.fusion) if args.fusion else []
        print(results["fusion"], flush=True)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    results["load_average_end"] = load_average()
    carry_skipped_arms(results, args.name)
    results["sources"] = {
        "sentences": "SST-2 dev (../shared/data/sst2/dev.tsv), the first N in file order",
        "digits": "scikit-learn load_digits (UCI ML hand-written digits, 8x8, in the scikit-learn wheel), "
                  "first N per class as train, the next M as test, upscaled to 64 px",
        "command": "python bench/multimodal.py "
                   + " ".join(f"--{k.replace('_', '-')} {v}" for k, v in vars(args).items() if k != "name"),
    }
    md = write_results(args.name, results, results["read_then_classify"])
    lines = [md.read_text().rstrip("\n")]
    for title, rows in (("Image classification (load_digits)", results["image_classification"]),
                        ("Fusion (digit image + SST-2 sentence, 4 classes)", results["fusion"])):
        if not rows:
            continue
        columns = list(rows[0])
        lines += ["", f"## {title}", "", "| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
        lines += ["| " + " | ".join(str(row[c]) for c in columns) + " |" for row in rows]
    lines += ["", f"Command: `{results['sources']['command']}`; load average {results['load_average_start']} "
              f"at the start, {results['load_average_end']} at the end."]
    for arm, origin in results.get("kept_from_previous", {}).items():
        lines.append(f"The {arm} rows are kept from the run of {origin['measured']} (`{origin['command']}`).")
    md.write_text("\n".join(lines) + "\n")
    print(md.read_text())


if __name__ == "__main__":
    main()
