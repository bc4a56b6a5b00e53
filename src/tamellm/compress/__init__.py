"""Compression: quantize, export to ONNX, prune, factorize, distil, and choose inside an accuracy budget.

Each method is a ``Compressor`` in the registry of ``compress/base.py``, one module each;
``auto_compress`` (compress/auto.py) tries them and keeps the fastest that stays inside
the accuracy budget.
"""

import sys
import types

from tamellm.compress import distill, dynamic_int8, low_rank, onnx_export, pruning  # noqa: F401
from tamellm.compress.auto import DEFAULT_PLAN, CompressResult, auto_compress
from tamellm.compress.base import COMPRESSORS, CompressContext, CompressionError, Compressor, register_compressor
from tamellm.compress.measure import Measurement, measure_folder

__all__ = ["COMPRESSORS", "DEFAULT_PLAN", "CompressContext", "CompressResult", "CompressionError", "Compressor",
           "Measurement", "auto_compress", "measure_folder", "register_compressor"]


class _CallableModule(types.ModuleType):
    """``tamellm.compress(...)`` must stay the API function after this package is imported
    (importing a subpackage binds its name on ``tamellm``, shadowing ``tamellm.__getattr__``)."""

    def __call__(self, *args, **kwargs):
        from tamellm.api import compress as api_compress

        return api_compress(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
