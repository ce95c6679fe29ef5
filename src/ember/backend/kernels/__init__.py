"""Array-level compute kernels (NumPy, no autograd): ``conv``, ``pool`` and ``gemm``. See each module's docstring."""
from . import conv, gemm, pool

__all__ = ["conv", "gemm", "pool"]
