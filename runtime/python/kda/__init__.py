"""kda: Kimi Delta Attention, compiled through MLIR for Hopper.

`kda.chunk_kda` takes flash-linear-attention's arguments. CPU tensors run the
exact float64 reference of the C library (runtime/src/reference.c).
"""

from ._lib import KDAError
from .ops import chunk_kda

__all__ = ["chunk_kda", "KDAError", "version"]


def version():
    """The C library's version number (major * 10000 + minor * 100 + patch)."""
    from ._lib import library
    return library().kda_version_number()
