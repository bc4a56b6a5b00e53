"""Compression: quantize, export to ONNX, prune, factorize, distil, and choose inside an accuracy budget.

Each method is a ``Compressor`` in the registry of ``compress/base.py``, one module each;
``auto_compress`` (compress/auto.py) tries them and keeps the fastest that stays inside
the accuracy budget.
"""

from tamellm.compression import distill, dynamic_int8, low_rank, onnx_export, pruning  # noqa: F401
from tamellm.compression.auto import DEFAULT_PLAN, CompressResult, auto_compress
from tamellm.compression.base import COMPRESSORS, CompressContext, CompressionError, Compressor, register_compressor
from tamellm.compression.measure import Measurement, measure_folder

__all__ = ["COMPRESSORS", "DEFAULT_PLAN", "CompressContext", "CompressResult", "CompressionError", "Compressor",
           "Measurement", "auto_compress", "measure_folder", "register_compressor"]

