"""kda: Kimi Delta Attention, compiled through MLIR for Hopper.

`kda.chunk_kda` takes flash-linear-attention's arguments. CPU tensors run the
exact float64 reference of the C library (runtime/src/reference.c); CUDA
tensors run the kernels compiled by kda-compile. When flash-linear-attention
is installed, importing kda makes fla's own chunk_kda dispatch to kda
(kda.fla_backend; opt out with FLA_KDA=0).
"""

import importlib.util

from ._lib import KDAError
from .decode import decode
from .ops import chunk_kda

__all__ = ["chunk_kda", "decode", "KDAError", "version"]

# With flash-linear-attention installed, its chunk_kda dispatches to kda
# (opt out with FLA_KDA=0): see kda.fla_backend.
if importlib.util.find_spec("fla") is not None:
    from . import fla_backend

    fla_backend.register()


def version():
    """The C library's version number (major * 10000 + minor * 100 + patch)."""
    from ._lib import library
    return library().kda_version_number()
