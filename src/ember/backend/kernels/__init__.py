"""Array-level compute kernels (NumPy, no autograd): ``conv`` (with ``winograd``), ``pool`` and ``gemm``, and their
helpers ``scratch`` (per-thread work buffers) and ``planes`` (per-channel operands). See each module's docstring."""
from . import conv, gemm, pool

__all__ = ["conv", "gemm", "pool"]
