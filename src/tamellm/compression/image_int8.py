"""Image classifiers to int8: ONNX export, then onnxruntime static quantization calibrated on real images.

EfficientNet is convolutions: torch's dynamic int8 quantizes only Linear layers (the head),
so it would leave the cost where it is. Static QDQ quantization quantizes the convolutions'
weights per channel and their activations from ranges measured on calibration images.

The ranges: the 99.999th percentile of each tensor's absolute values on the calibration images
(not the min/max: one outlier pixel of one image would widen a range for all), symmetric around
zero. On the digits benchmark (bench/multimodal.py) this keeps the fp32 accuracy where plain
min/max ranges lose 4 points and the pooled features' cosine to fp32 goes from 0.968 to 0.986.
The collapse once seen here (fp32 0.54, int8 0.195) was not the quantizer: the network ran Swish
where EfficientNet-Lite has ReLU6 (``models.image_net``), and its unbounded activations left
int8 too coarse.
The folder keeps the fp32 safetensors beside ``model.int8.onnx``: pixel explanations need
gradients, and inspecting the folder stays the same.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import shutil
import tempfile
from pathlib import Path
from typing import Any

import torch

from tamellm.errors import CompressionError
from tamellm.models.image_net import load_image_net, pixels_of

logger = logging.getLogger(__name__)
ONNX_FILE = "model.int8.onnx"
OPSET = 17
CALIBRATION = {"method": "Percentile", "symmetric": True}  # onnxruntime CalibrationMethod name; see above


def _calibration(images: list[Any], size: int, most: int = 8):
    from onnxruntime.quantization import CalibrationDataReader

    # batches of one size: the histogram calibrators stack every batch's outputs into one array
    batch = max(d for d in range(1, most + 1) if len(images) % d == 0)

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self.batches = iter([pixels_of(images[i:i + batch], size).numpy() for i in range(0, len(images), batch)])

        def get_next(self) -> dict | None:
            item = next(self.batches, None)
            return None if item is None else {"pixels": item}

    return Reader()


def compress_image_model(model_dir: str | Path, output: str | Path, calibration: list[str | Path],
                         limit: int = 64, quantize: bool = True) -> Path:
    """Write an int8 copy of an image classifier folder to ``output`` (kind ``image-onnx``), calibrated on up to
    ``limit`` of the ``calibration`` images, spread evenly over the list (use training images of every class:
    their value ranges are what it will see). ``quantize=False`` writes the fp32 ONNX export instead (the same
    weights on ONNX Runtime: no accuracy change)."""
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static

    from tamellm.tasks.image_classification import open_images

    model_dir, output = Path(model_dir), Path(output)
    if quantize and not calibration:
        raise CompressionError("int8 compression of an image model needs calibration images",
                               "pass a few dozen images like the ones it will classify")
    net, labels = load_image_net(model_dir)
    chosen = list(calibration)
    if len(chosen) > limit:  # evenly spread: a list sorted by class folder still covers every class
        chosen = [chosen[round(i * (len(chosen) - 1) / (limit - 1))] for i in range(limit)]
    images, _, _ = open_images([str(p) for p in chosen]) if quantize else ([], None, None)
    output.parent.mkdir(parents=True, exist_ok=True)
    staged = Path(tempfile.mkdtemp(dir=output.parent, prefix=f".{output.name}-"))
    try:
        shutil.copy2(model_dir / "model.safetensors", staged / "model.safetensors")
        shutil.copy2(model_dir / "config.json", staged / "config.json")
        fp32 = staged / "model.fp32.onnx"
        sample = torch.zeros(1, 3, net.image_size, net.image_size)
        with torch.no_grad():
            torch.onnx.export(net, (sample,), str(fp32), input_names=["pixels"], output_names=["logits"],
                              dynamic_axes={"pixels": {0: "batch"}, "logits": {0: "batch"}}, opset_version=OPSET,
                              dynamo=False)
        if quantize:
            printed = io.StringIO()  # the histogram calibrators print progress: keep stdout for --json
            with contextlib.redirect_stdout(printed):
                quantize_static(str(fp32), str(staged / ONNX_FILE), _calibration(images, net.image_size),
                                quant_format=QuantFormat.QDQ, per_channel=True, weight_type=QuantType.QInt8,
                                activation_type=QuantType.QUInt8,
                                calibrate_method=getattr(CalibrationMethod, CALIBRATION["method"]),
                                extra_options={"ActivationSymmetric": CALIBRATION["symmetric"]})
            logger.debug("calibration: %s", printed.getvalue().strip())
            fp32.unlink()
        else:
            fp32.rename(staged / ONNX_FILE)
        manifest = json.loads((model_dir / "tamellm.json").read_text(encoding="utf-8"))
        method = "onnx-int8-static" if quantize else "onnx-fp32"
        manifest.update(kind="image-onnx", compression={"method": method, "calibration_images": len(images),
                                                        "source": str(model_dir)})
        if quantize:
            manifest["compression"]["calibration"] = dict(CALIBRATION)
        (staged / "tamellm.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
        if output.exists():
            shutil.rmtree(output)
        staged.rename(output)
    except BaseException:
        shutil.rmtree(staged, ignore_errors=True)
        raise
    logger.info("%s image model written to %s (%d labels)", "int8" if quantize else "fp32 ONNX", output, len(labels))
    return output

